// Queries: the console's draft, the query it shows (kept current until it
// ends), and one page of the history with its filters.
//
// Following a query: a single-target query is usually done within a second,
// so after submitting we ask for it with `wait_ms` (the server answers the
// moment it ends: one round trip). A query on several targets, or one still
// running after that wait, is followed through its event stream, which shows
// each target's result as it ends. If the stream fails we poll, each request
// itself waiting up to 2 s for the end.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { isApiError, type RequestOptions } from '@/api/http'
import { MAX_WAIT_MS, queriesApi, type QueryListQuery } from '@/api/queries'
import { openQueryEvents } from '@/api/queryEvents'
import type { Query, QueryInput } from '@/api/types'
import { draftFromQuery, emptyQueryDraft, type QueryDraft } from '@/utils/queryForm'
import { applyEndEvent, applyResultEvent, applyStatusEvent, isQueryEnded } from '@/utils/queries'
import { emptySubmittedFilters, type SubmittedFilters, toSubmittedQuery, usePagedList } from './pagedList'

export type QueryFilters = SubmittedFilters

export const DEFAULT_PER_PAGE = 20
/** The first wait for a single-target query (the most the server allows). */
export const FIRST_WAIT_MS = MAX_WAIT_MS
/** How often the query is asked for when its event stream is unavailable. */
export const POLL_INTERVAL_MS = 2000

/** How the shown query is kept current. */
export type QueryLive = 'off' | 'waiting' | 'events' | 'polling'

export const toListQuery: (filters: QueryFilters, page: number, perPage: number) => QueryListQuery =
  toSubmittedQuery

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError'
}

export const useQueriesStore = defineStore('queries', () => {
  /** The console's form, kept while the user visits other pages. */
  const draft = ref<QueryDraft>(emptyQueryDraft())
  /** The id of the query the console shows; set before the query itself has arrived. */
  const activeId = ref<number | null>(null)
  const current = ref<Query | null>(null)
  const live = ref<QueryLive>('off')

  const list = usePagedList(
    emptySubmittedFilters,
    (f, page, perPage) => queriesApi.list(toListQuery(f, page, perPage)),
    DEFAULT_PER_PAGE,
  )
  const { filters, items, total, page, perPage, loading, load, resetFilters } = list

  let closeEvents: (() => void) | null = null
  let pollTimer: ReturnType<typeof setTimeout> | null = null
  let inFlight: AbortController | null = null
  // Bumped whenever live updates stop, so an answer already in flight is dropped.
  let generation = 0

  function stopLive(): void {
    generation++
    closeEvents?.()
    closeEvents = null
    if (pollTimer !== null) clearTimeout(pollTimer)
    pollTimer = null
    inFlight?.abort()
    inFlight = null
    live.value = 'off'
  }

  /** Asks for the query, waiting up to `waitMs` for its end; null when live updates stopped meanwhile. */
  async function fetchFor(id: number, gen: number, waitMs: number, opts: RequestOptions = {}): Promise<Query | null> {
    const abort = new AbortController()
    inFlight = abort
    try {
      const query = await queriesApi.get(id, waitMs, { ...opts, signal: abort.signal })
      if (gen !== generation) return null
      current.value = query
      if (isQueryEnded(query)) stopLive()
      return query
    } finally {
      if (inFlight === abort) inFlight = null
    }
  }

  /** One long request; if the query is still running after it, the event stream takes over. */
  async function waitThenFollow(id: number): Promise<void> {
    stopLive()
    const gen = generation
    live.value = 'waiting'
    try {
      const query = await fetchFor(id, gen, FIRST_WAIT_MS)
      if (query && !isQueryEnded(query)) startEvents(id)
    } catch (err) {
      if (gen !== generation || isAbort(err)) return
      if (isApiError(err, 404) || isApiError(err, 401)) return stopLive()
      startEvents(id) // already toasted; the stream (or polling) may still get through
    }
  }

  function startEvents(id: number): void {
    stopLive()
    const gen = generation
    live.value = 'events'
    const update = (change: (query: Query) => Query) => {
      if (current.value?.id === id) current.value = change(current.value)
    }
    closeEvents = openQueryEvents(id, {
      snapshot: (query) => (current.value = query),
      result: (e) => update((query) => applyResultEvent(query, e)),
      status: (e) => update((query) => applyStatusEvent(query, e)),
      end: (e) => {
        update((query) => applyEndEvent(query, e))
        stopLive()
      },
      error: () => {
        if (gen !== generation) return
        closeEvents = null
        startPolling(id, gen)
      },
    })
  }

  function startPolling(id: number, gen: number): void {
    live.value = 'polling'
    const tick = async (): Promise<void> => {
      pollTimer = null
      const started = Date.now()
      try {
        // Quiet: a passing outage would otherwise toast every two seconds.
        const query = await fetchFor(id, gen, POLL_INTERVAL_MS, { silent: true })
        if (!query || isQueryEnded(query)) return
      } catch (err) {
        if (gen !== generation || isAbort(err)) return
        if (isApiError(err, 404) || isApiError(err, 401)) return stopLive()
      }
      // The server held the request while nothing ended: ask again at once; a quick answer waits its turn.
      pollTimer = setTimeout(() => void tick(), Math.max(0, POLL_INTERVAL_MS - (Date.now() - started)))
    }
    void tick()
  }

  /** Submits a query and follows it; resolves with its id once the server has accepted it. */
  async function run(input: QueryInput, opts?: RequestOptions): Promise<number> {
    const { id } = await queriesApi.submit(input, opts)
    stopLive()
    activeId.value = id
    current.value = null
    const single = (input.target_ids?.length ?? 0) === 1
    if (single) void waitThenFollow(id)
    else startEvents(id)
    return id
  }

  /** Shows query `id` (from the history or the address), following it while it runs. */
  async function open(id: number): Promise<void> {
    if (activeId.value === id) {
      // Already shown: only resume following it (the console was left and opened again).
      if (live.value === 'off' && (current.value === null || !isQueryEnded(current.value))) startEvents(id)
      return
    }
    stopLive()
    activeId.value = id
    current.value = null
    const query = await queriesApi.get(id)
    if (activeId.value !== id) return
    current.value = query
    if (!isQueryEnded(query)) startEvents(id)
  }

  /** Leaving the console: stop following, but keep the query to show on return. */
  function pause(): void {
    stopLive()
  }

  /** An empty console: the shown query is put aside (it keeps running if it runs). */
  function clearCurrent(): void {
    stopLive()
    activeId.value = null
    current.value = null
  }

  async function cancel(id: number): Promise<Query> {
    const query = await queriesApi.cancel(id)
    if (activeId.value === id) {
      current.value = query
      // Running statements end in their databases a moment later: keep following until then.
      if (isQueryEnded(query)) stopLive()
      else if (live.value === 'off') startEvents(id)
    }
    return query
  }

  /**
   * Fills the console's form from an earlier query, to run it again; the
   * console starts without results. Asks for the query: the history has only
   * the start of its SQL, and not its targets.
   */
  async function runAgain(id: number): Promise<void> {
    const query = current.value?.id === id ? current.value : await queriesApi.get(id)
    clearCurrent()
    draft.value = draftFromQuery(query)
  }

  function reset(): void {
    clearCurrent()
    draft.value = emptyQueryDraft()
    list.resetList()
  }

  return {
    draft,
    activeId,
    current,
    live,
    filters,
    items,
    total,
    page,
    perPage,
    loading,
    run,
    open,
    pause,
    clearCurrent,
    cancel,
    runAgain,
    load,
    resetFilters,
    reset,
  }
})
