import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '@/api/http'
import { installFakeEventSource, type FakeEventSource } from '@/test/fakeEventSource'
import { useLiveResource, type FetchInit, type LiveResourceOptions } from './useLiveResource'

interface Thing {
  id: number
  n: number
  done: boolean
}
interface ThingEvents {
  tick: { id: number; n: number }
}

const POLL = 1000
const RETRY = 5000
let streams: FakeEventSource[]

beforeEach(() => {
  vi.useFakeTimers()
  streams = installFakeEventSource()
})
afterEach(() => {
  vi.useRealTimers()
})

/** A fake GET: each call waits for the test to answer it. */
function fakeFetch() {
  const pending: { id: number; init: FetchInit; answer: (t: Thing) => void; refuse: (e: unknown) => void }[] = []
  const fetch = vi.fn((id: number, init: FetchInit) => {
    return new Promise<Thing>((resolve, reject) => pending.push({ id, init, answer: resolve, refuse: reject }))
  })
  return { fetch, pending }
}

function setup(overrides: Partial<LiveResourceOptions<Thing, ThingEvents>> = {}) {
  const { fetch, pending } = fakeFetch()
  const applyEnd = vi.fn((t: Thing) => ({ ...t, done: true }))
  const scope = effectScope()
  const live = scope.run(() =>
    useLiveResource<Thing, ThingEvents>({
      streamUrl: (id) => `/api/things/${id}/events`,
      fetch,
      idOf: (t) => t.id,
      isEnded: (t) => t.done,
      apply: { tick: (t, e) => (e.id === t.id ? { ...t, n: e.n } : t) },
      applyEnd,
      pollIntervalMs: POLL,
      retryStreamMs: RETRY,
      ...overrides,
    }),
  )!
  return { live, fetch, pending, applyEnd, scope }
}

const thing = (n: number, done = false, id = 1): Thing => ({ id, n, done })

describe('a live resource', () => {
  it('takes the snapshot, then applies each event through its handler', () => {
    const { live } = setup()
    void live.follow(1)
    expect(streams.map((s) => s.url)).toEqual(['/api/things/1/events'])
    expect(live.live.value).toBe('events')

    streams[0]!.emit('snapshot', thing(1))
    streams[0]!.emit('tick', { id: 1, n: 2 })
    streams[0]!.emit('tick', { id: 1, n: 3 })

    expect(live.current.value).toEqual(thing(3))
  })

  it('polls the GET at once and then every interval when the stream breaks', async () => {
    const { live, fetch, pending } = setup()
    void live.follow(1)
    streams[0]!.emit('snapshot', thing(1))

    streams[0]!.fail()
    expect(streams[0]!.closed).toBe(true)
    expect(live.live.value).toBe('polling')
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(pending[0]!.init.silent).toBe(true)

    pending[0]!.answer(thing(4))
    await vi.advanceTimersByTimeAsync(POLL - 1)
    expect(live.current.value?.n).toBe(4)
    expect(fetch).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(fetch).toHaveBeenCalledTimes(2)
  })

  it("falls back to polling on the server's stream_error, and on an older server's error event", () => {
    for (const name of ['stream_error', 'error']) {
      const { live, fetch } = setup()
      void live.follow(1)
      const stream = streams.at(-1)!
      stream.emit('snapshot', thing(1))

      stream.emit(name, { message: 'store unavailable' })

      expect(stream.closed).toBe(true)
      expect(live.live.value).toBe('polling')
      expect(fetch).toHaveBeenCalledOnce()
      live.stop()
    }
  })

  it('tries the stream again while polling, and its snapshot ends the polling and drops a poll in flight', async () => {
    const { live, fetch, pending } = setup()
    void live.follow(1)
    streams[0]!.fail()
    pending[0]!.answer(thing(1))
    await vi.advanceTimersByTimeAsync(RETRY - 1)
    expect(streams).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(streams).toHaveLength(2)
    expect(live.live.value).toBe('polling')

    const inFlight = pending.at(-1)!
    streams[1]!.emit('snapshot', thing(7))
    expect(live.live.value).toBe('events')
    expect(inFlight.init.signal.aborted).toBe(true)
    inFlight.answer(thing(2))
    const asked = fetch.mock.calls.length
    await vi.advanceTimersByTimeAsync(POLL * 5)

    expect(live.current.value?.n).toBe(7)
    expect(fetch).toHaveBeenCalledTimes(asked)
  })

  it('waits longer before each new try of the stream while it keeps failing', async () => {
    const { live, pending } = setup()
    void live.follow(1)
    streams[0]!.fail()
    pending[0]!.answer(thing(1))

    await vi.advanceTimersByTimeAsync(RETRY)
    expect(streams).toHaveLength(2)
    streams[1]!.fail()
    await vi.advanceTimersByTimeAsync(RETRY * 2 - 1)
    expect(streams).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(streams).toHaveLength(3)
    expect(live.live.value).toBe('polling')
  })

  it('ignores a late answer for the resource followed before', async () => {
    const { live, pending } = setup()
    void live.follow(1, { waitMs: 10_000 })
    expect(live.live.value).toBe('waiting')
    expect(pending[0]!.init.waitMs).toBe(10_000)

    void live.follow(2)
    streams[0]!.emit('snapshot', thing(1, false, 2))
    pending[0]!.answer(thing(99, false, 1))
    await vi.advanceTimersByTimeAsync(0)

    expect(pending[0]!.init.signal.aborted).toBe(true)
    expect(live.current.value).toEqual(thing(1, false, 2))
    expect(streams.map((s) => s.url)).toEqual(['/api/things/2/events'])
  })

  it("ignores a late poll answer of a previous stream's fallback", async () => {
    const { live, pending } = setup()
    void live.follow(1)
    streams[0]!.fail()
    const slow = pending[0]!

    void live.follow(1)
    streams[1]!.emit('snapshot', thing(5))
    slow.answer(thing(0))
    await vi.advanceTimersByTimeAsync(0)

    expect(live.current.value?.n).toBe(5)
    expect(live.live.value).toBe('events')
  })

  it('stops everything at the end, after applying it', async () => {
    const { live, fetch, applyEnd } = setup()
    void live.follow(1)
    streams[0]!.emit('snapshot', thing(1))

    streams[0]!.emit('end', { id: 1, status: 'success' })
    await vi.advanceTimersByTimeAsync(RETRY * 4)

    expect(applyEnd).toHaveBeenCalledOnce()
    expect(live.current.value?.done).toBe(true)
    expect(live.live.value).toBe('off')
    expect(streams).toHaveLength(1)
    expect(streams[0]!.closed).toBe(true)
    expect(fetch).not.toHaveBeenCalled()
  })

  it('keeps the reason of an end the server gave one, and does not reconnect', async () => {
    const { live, fetch, applyEnd } = setup()
    void live.follow(1)
    streams[0]!.emit('snapshot', thing(1))

    streams[0]!.emit('end', { id: 1, status: 'running', reason: 'unauthenticated' })
    await vi.advanceTimersByTimeAsync(RETRY * 4)

    expect(live.endReason.value).toBe('unauthenticated')
    // The resource has not ended; it is only no longer followed.
    expect(applyEnd).not.toHaveBeenCalled()
    expect(live.current.value?.done).toBe(false)
    expect(live.live.value).toBe('off')
    expect(streams).toHaveLength(1)
    expect(fetch).not.toHaveBeenCalled()
  })

  it('stops polling when the resource has ended or is gone', async () => {
    const { live, fetch, pending } = setup()
    void live.follow(1)
    streams[0]!.fail()
    pending[0]!.answer(thing(3, true))
    await vi.advanceTimersByTimeAsync(RETRY * 4)
    expect(live.live.value).toBe('off')
    expect(fetch).toHaveBeenCalledOnce()
    expect(streams).toHaveLength(1)

    void live.follow(1)
    streams[1]!.fail()
    pending[1]!.refuse(new ApiError(404, 'not_found', 'no thing 1'))
    await vi.advanceTimersByTimeAsync(RETRY * 4)
    expect(live.live.value).toBe('off')
    expect(fetch).toHaveBeenCalledTimes(2)
  })

  it('keeps polling through a passing failure of the GET', async () => {
    const { live, fetch, pending } = setup()
    void live.follow(1)
    streams[0]!.fail()
    pending[0]!.refuse(new ApiError(503, 'unavailable', 'store down'))
    await vi.advanceTimersByTimeAsync(POLL)

    expect(live.live.value).toBe('polling')
    expect(fetch).toHaveBeenCalledTimes(2)
  })

  it('stops everything when closed, and when its scope ends (the page is left)', async () => {
    const first = setup()
    void first.live.follow(1)
    first.live.stop()
    expect(streams[0]!.closed).toBe(true)

    const second = setup()
    void second.live.follow(1)
    streams[1]!.fail()
    const inFlight = second.pending[0]!
    second.scope.stop()
    inFlight.answer(thing(9))
    await vi.advanceTimersByTimeAsync(RETRY * 4)

    expect(inFlight.init.signal.aborted).toBe(true)
    expect(second.live.current.value).toBeNull()
    expect(second.live.live.value).toBe('off')
    expect(second.fetch).toHaveBeenCalledOnce()
    expect(streams).toHaveLength(2)
  })

  it('loads the resource, follows it only while unfinished, and hands errors to the caller', async () => {
    const { live, pending } = setup()
    const loading = live.load(1)
    pending[0]!.answer(thing(1, true))
    await expect(loading).resolves.toEqual(thing(1, true))
    expect(streams).toHaveLength(0)

    const failing = live.load(2)
    pending[1]!.refuse(new ApiError(500, 'internal', 'boom'))
    await expect(failing).rejects.toMatchObject({ status: 500 })
    expect(pending[1]!.init.silent).toEqual([404])
    expect(live.live.value).toBe('off')

    const running = live.load(3)
    pending[2]!.answer(thing(1, false, 3))
    await running
    expect(streams.map((s) => s.url)).toEqual(['/api/things/3/events'])
  })
})
