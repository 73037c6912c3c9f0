// One resource kept current while it runs (a job, a query): its event stream
// first — a `snapshot`, then incremental events, then `end` — and, when the
// stream cannot open or breaks, polling its GET while the stream is retried
// with a growing delay. Every asynchronous answer carries the session it
// belongs to: once the resource changes or live updates stop, a late answer
// (a poll, a wait, an old stream's event) is dropped instead of overwriting
// the current resource. Used by the jobs and queries stores; stops by itself
// when the effect scope it was created in ends (a component, a store).
import { getCurrentScope, onScopeDispose, ref, shallowRef, type Ref } from 'vue'
import { openEventStream, type RawHandlers } from '@/api/eventStream'
import { isApiError, type RequestOptions } from '@/api/http'
import type { Status } from '@/api/types'

/** How the resource is kept current. */
export type LiveMode = 'off' | 'waiting' | 'events' | 'polling'

/**
 * The stream's last event. Without `reason` the resource has ended; with one the
 * server ended the stream (`unauthenticated`, `forbidden`, `unverified`) and
 * nothing reconnects.
 */
export interface StreamEnd {
  id: number
  status?: Status | null
  reason?: string | null
}

export interface FetchInit {
  signal: AbortSignal
  /**
   * Polls are quiet: a passing outage would otherwise toast every two seconds. A
   * load is quiet only on 404: the page shows its own empty state for that.
   */
  silent: NonNullable<RequestOptions['silent']>
  /** Ask the server to answer as soon as the resource has ended, or after this long. */
  waitMs?: number
}

export interface LiveResourceOptions<T, Events> {
  streamUrl: (id: number) => string
  fetch: (id: number, init: FetchInit) => Promise<T>
  idOf: (value: T) => number
  isEnded: (value: T) => boolean
  /** How each incremental event changes the resource (pure: returns a new object). */
  apply: { [Name in keyof Events]: (current: T, data: Events[Name]) => T }
  /** Told of each incremental event after it was applied (e.g. a table showing a part of the resource). */
  listen?: { [Name in keyof Events]?: (data: Events[Name]) => void }
  /** How an `end` without a reason changes the resource before live updates stop. */
  applyEnd?: (current: T, end: StreamEnd) => T
  /** Time from the start of one poll to the next. */
  pollIntervalMs?: number
  /** Each poll waits this long on the server for the end (a long poll). */
  pollWaitMs?: number
  /** First delay before the stream is tried again while polling; doubles up to `maxRetryStreamMs`. */
  retryStreamMs?: number
  maxRetryStreamMs?: number
}

export const DEFAULT_POLL_INTERVAL_MS = 2000
export const DEFAULT_RETRY_STREAM_MS = 5000
export const DEFAULT_MAX_RETRY_STREAM_MS = 60_000

/** A load leaves "not found" to its page, which says so in place. */
const NOT_FOUND: readonly number[] = [404]

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError'
}

function isGone(err: unknown): boolean {
  return isApiError(err, 404) || isApiError(err, 401)
}

export function useLiveResource<T, Events>(opts: LiveResourceOptions<T, Events>) {
  const pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS
  const firstRetryMs = opts.retryStreamMs ?? DEFAULT_RETRY_STREAM_MS
  const maxRetryMs = opts.maxRetryStreamMs ?? DEFAULT_MAX_RETRY_STREAM_MS

  const current = shallowRef<T | null>(null) as Ref<T | null>
  const live = ref<LiveMode>('off')
  /** Why the server ended the stream, when it gave a reason; cleared when following starts again. */
  const endReason = ref<string | null>(null)
  /** Bumped whenever the resource is replaced whole (snapshot, GET, `set`), not changed by an event. */
  const replaced = ref(0)

  // Bumped by every stop: anything started before belongs to an older session.
  let session = 0
  // Bumped when polling stops within a session (the stream took over).
  let pollTicket = 0
  let closeStream: (() => void) | null = null
  let pollTimer: ReturnType<typeof setTimeout> | null = null
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let retryMs = firstRetryMs
  let inFlight: AbortController | null = null

  function stopPolling(): void {
    pollTicket++
    if (pollTimer !== null) clearTimeout(pollTimer)
    pollTimer = null
    if (retryTimer !== null) clearTimeout(retryTimer)
    retryTimer = null
    inFlight?.abort()
    inFlight = null
  }

  /** Stops every stream, poll and timer; the resource stays as last seen. */
  function stop(): void {
    session++
    stopPolling()
    closeStream?.()
    closeStream = null
    live.value = 'off'
  }

  function update(id: number, change: (value: T) => T): void {
    if (current.value !== null && opts.idOf(current.value) === id) current.value = change(current.value)
  }

  /** One GET of the resource for session `s`; null when the session or poll ended meanwhile. */
  async function fetchFor(id: number, s: number, init: Omit<FetchInit, 'signal'>): Promise<T | null> {
    const ticket = pollTicket
    const abort = new AbortController()
    inFlight = abort
    try {
      const value = await opts.fetch(id, { ...init, signal: abort.signal })
      if (s !== session || ticket !== pollTicket) return null
      current.value = value
      replaced.value++
      if (opts.isEnded(value)) stop()
      return value
    } finally {
      if (inFlight === abort) inFlight = null
    }
  }

  function openStream(id: number, s: number): void {
    const handlers: RawHandlers = {
      snapshot: (data) => {
        if (s !== session) return
        // The stream works: it replaces polling, and an older poll answer is dropped.
        stopPolling()
        retryMs = firstRetryMs
        live.value = 'events'
        current.value = data as T
        replaced.value++
      },
      end: (data) => {
        if (s !== session) return
        closeStream = null
        const end = data as StreamEnd
        if (end.reason) endReason.value = end.reason
        else if (opts.applyEnd) update(id, (value) => opts.applyEnd!(value, end))
        stop()
      },
    }
    for (const name of Object.keys(opts.apply) as (keyof Events & string)[]) {
      const apply = opts.apply[name]
      const listen = opts.listen?.[name]
      handlers[name] = (data) => {
        if (s !== session) return
        const event = data as Events[typeof name]
        update(id, (value) => apply(value, event))
        listen?.(event)
      }
    }
    closeStream = openEventStream(opts.streamUrl(id), handlers, {
      end: 'end',
      error: () => {
        if (s !== session) return
        closeStream = null
        if (live.value !== 'polling') startPolling(id, s)
        scheduleRetry(id, s)
      },
    })
  }

  /** While polling, the stream is tried again; polling goes on until its snapshot arrives. */
  function scheduleRetry(id: number, s: number): void {
    if (retryTimer !== null) clearTimeout(retryTimer)
    const delay = retryMs
    retryMs = Math.min(retryMs * 2, maxRetryMs)
    retryTimer = setTimeout(() => {
      retryTimer = null
      if (s === session) openStream(id, s)
    }, delay)
  }

  function startPolling(id: number, s: number): void {
    live.value = 'polling'
    const tick = async (): Promise<void> => {
      pollTimer = null
      const ticket = pollTicket
      const started = Date.now()
      try {
        const value = await fetchFor(id, s, { silent: true, waitMs: opts.pollWaitMs })
        if (value === null || opts.isEnded(value)) return
      } catch (err) {
        if (s !== session || ticket !== pollTicket || isAbort(err)) return
        if (isGone(err)) return stop()
      }
      // A long poll that the server held while nothing ended asks again at once.
      pollTimer = setTimeout(() => void tick(), Math.max(0, pollIntervalMs - (Date.now() - started)))
    }
    void tick()
  }

  /**
   * Follows resource `id` from its event stream. With `waitMs`, first asks for it
   * once, waiting that long on the server for its end (a short query is done in
   * one round trip); the stream follows only if it is still running.
   */
  async function follow(id: number, how: { waitMs?: number } = {}): Promise<void> {
    stop()
    endReason.value = null
    retryMs = firstRetryMs
    const s = session
    if (how.waitMs === undefined) {
      live.value = 'events'
      openStream(id, s)
      return
    }
    live.value = 'waiting'
    try {
      const value = await fetchFor(id, s, { silent: false, waitMs: how.waitMs })
      if (value !== null && !opts.isEnded(value)) {
        live.value = 'events'
        openStream(id, s)
      }
    } catch (err) {
      if (s !== session || isAbort(err)) return
      if (isGone(err)) return stop()
      // Already toasted; the stream (or polling) may still get through.
      live.value = 'events'
      openStream(id, s)
    }
  }

  /**
   * Asks for resource `id` (errors reach the caller, toasted but a 404) and follows it if it
   * has not ended. Resolves with it, or null when something else was opened meanwhile.
   */
  async function load(id: number): Promise<T | null> {
    stop()
    endReason.value = null
    const s = session
    const abort = new AbortController()
    inFlight = abort
    let value: T
    try {
      value = await opts.fetch(id, { signal: abort.signal, silent: NOT_FOUND })
    } catch (err) {
      if (s !== session) return null
      throw err
    } finally {
      if (inFlight === abort) inFlight = null
    }
    if (s !== session) return null
    current.value = value
    replaced.value++
    if (!opts.isEnded(value)) {
      live.value = 'events'
      openStream(id, s)
    }
    return value
  }

  /** Replaces the resource as shown (an answer to a cancel or retry); live updates go on. */
  function set(value: T | null): void {
    current.value = value
    replaced.value++
  }

  /** Stops and forgets the resource. */
  function clear(): void {
    stop()
    endReason.value = null
    current.value = null
  }

  if (getCurrentScope()) onScopeDispose(stop)

  return { current, live, endReason, replaced, follow, load, set, stop, clear }
}
