import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { configureHttp } from '@/api/http'
import type { Cell } from '@/api/types'
import { installFakeEventSource, type FakeEventSource } from '@/test/fakeEventSource'
import { query, queryResult, querySummary } from '@/test/fixtures'
import { apiError, deferred, json, mockApi } from '@/test/mockApi'
import { FIRST_WAIT_MS, POLL_INTERVAL_MS, useQueriesStore } from './queries'

const ENDED = '2026-11-28T00:00:05Z'
const ROWS: Cell[][] = [[{ t: 'int', v: 1 }, { t: 'null' }]]
let streams: FakeEventSource[]

beforeEach(() => {
  setActivePinia(createPinia())
  configureHttp({ onError: vi.fn() })
  streams = installFakeEventSource()
})

afterEach(() => {
  vi.useRealTimers()
})

/** Lets pending promise callbacks (answers of the fake fetch) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

describe('running a query on one target', () => {
  it('submits, then waits for the end in one long request, without opening a stream', async () => {
    const done = query({ status: 'success', finished_at: ENDED, results: [queryResult({ status: 'success', rows: ROWS })] })
    const api = mockApi({ 'POST /api/queries': json(201, { id: 42 }), 'GET /api/queries/42': json(200, done) })
    const store = useQueriesStore()

    const id = await store.run({ sql: 'SELECT 1', target_ids: [1], row_limit: 10 })
    expect(id).toBe(42)
    expect(store.activeId).toBe(42)
    await settle()

    expect(api.callsTo('POST', '/api/queries')[0]!.body).toEqual({ sql: 'SELECT 1', target_ids: [1], row_limit: 10 })
    expect(api.callsTo('GET', '/api/queries/42')[0]!.query.get('wait_ms')).toBe(String(FIRST_WAIT_MS))
    expect(store.current?.results[0]?.rows).toEqual(ROWS)
    expect(store.live).toBe('off')
    expect(streams).toHaveLength(0)
  })

  it('follows the event stream when the query is still running after the wait', async () => {
    mockApi({ 'POST /api/queries': json(201, { id: 42 }), 'GET /api/queries/42': json(200, query({ status: 'running' })) })
    const store = useQueriesStore()

    await store.run({ sql: 'SELECT pg_sleep(30)', target_ids: [1] })
    await settle()

    expect(streams.map((s) => s.url)).toEqual(['/api/queries/42/events'])
    expect(store.live).toBe('events')
  })

  it('drops the answer of the wait when the console was cleared meanwhile, and aborts the request', async () => {
    const answer = deferred<Response>()
    const api = mockApi({ 'POST /api/queries': json(201, { id: 42 }), 'GET /api/queries/42': () => answer.promise })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_ids: [1] })
    await settle()

    store.clearCurrent()
    answer.resolve(json(200, query({ status: 'running' })))
    await settle()

    expect(api.callsTo('GET', '/api/queries/42')[0]!.signal?.aborted).toBe(true)
    expect(store.current).toBeNull()
    expect(streams).toHaveLength(0)
  })

  it('keeps a 400 naming a field for the form and starts nothing', async () => {
    mockApi({
      'POST /api/queries': apiError(400, 'invalid_input', 'statement 1 (line 1) is a DELETE, not a query', 'sql'),
    })
    const store = useQueriesStore()

    await expect(store.run({ sql: 'DELETE FROM t', target_ids: [1] }, { silent: [400] })).rejects.toMatchObject({
      status: 400,
      field: 'sql',
    })
    expect(store.activeId).toBeNull()
    expect(streams).toHaveLength(0)
  })
})

describe('running a query on several targets', () => {
  it('applies the snapshot, each result, the status and the end from the event stream', async () => {
    const api = mockApi({ 'POST /api/queries': json(201, { id: 42 }) })
    const store = useQueriesStore()
    const waiting = [queryResult({ target_id: 1 }), queryResult({ target_id: 2, target_name: 'orders-replica' })]

    await store.run({ sql: 'SELECT 1', target_tags: ['prod'] })
    const stream = streams[0]!
    expect(stream.url).toBe('/api/queries/42/events')
    expect(api.callsTo('GET', '/api/queries/42')).toHaveLength(0)

    stream.emit('snapshot', query({ status: 'running', results: waiting }))
    stream.emit('result', {
      query_id: 42,
      result: queryResult({ target_id: 2, status: 'success', rows: ROWS, finished_at: '2026-11-28T00:00:03Z' }),
    })
    expect(store.current?.results.map((r) => r.status)).toEqual(['waiting', 'success'])
    expect(store.current?.results[1]?.rows).toEqual(ROWS)

    stream.emit('result', {
      query_id: 42,
      result: queryResult({ target_id: 1, status: 'error', error: 'permission denied', error_code: '42501', finished_at: ENDED }),
    })
    stream.emit('status', { id: 42, status: 'error' })
    expect(store.current?.finished_at).toBeNull()
    stream.emit('end', { id: 42, status: 'error' })

    expect(store.current?.status).toBe('error')
    expect(store.current?.results[0]).toMatchObject({ error_code: '42501', error: 'permission denied' })
    // The end has no time of its own: the last result's end is the query's.
    expect(store.current?.finished_at).toBe(ENDED)
    expect(stream.closed).toBe(true)
    expect(store.live).toBe('off')
  })

  it('ignores a result event of another query', async () => {
    mockApi({ 'POST /api/queries': json(201, { id: 42 }) })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_ids: [1, 2] })
    streams[0]!.emit('snapshot', query())

    streams[0]!.emit('result', { query_id: 7, result: queryResult({ status: 'success' }) })

    expect(store.current?.results[0]?.status).toBe('waiting')
  })

  it('keeps the reason of an end the server gave one, leaves the query unfinished, and does not follow it again', async () => {
    vi.useFakeTimers()
    const api = mockApi({ 'POST /api/queries': json(201, { id: 42 }) })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_ids: [1, 2] })
    streams[0]!.emit('snapshot', query({ status: 'running' }))

    streams[0]!.emit('end', { id: 42, status: 'running', reason: 'forbidden' })
    await vi.advanceTimersByTimeAsync(60_000)
    await store.open(42)

    expect(store.endReason).toBe('forbidden')
    expect(store.current?.finished_at).toBeNull()
    expect(store.live).toBe('off')
    expect(streams).toHaveLength(1)
    expect(api.calls).toHaveLength(1)
  })

  it("falls back to polling on the server's stream_error", async () => {
    mockApi({
      'POST /api/queries': json(201, { id: 42 }),
      'GET /api/queries/42': json(200, query({ status: 'running' })),
    })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_ids: [1, 2] })
    streams[0]!.emit('snapshot', query({ status: 'running' }))

    streams[0]!.emit('stream_error', { message: 'metadata store unavailable' })

    expect(streams[0]!.closed).toBe(true)
    expect(store.live).toBe('polling')
    store.clearCurrent()
  })

  it('polls when the stream fails, each request waiting for the end, until the query has ended', async () => {
    vi.useFakeTimers()
    const api = mockApi({
      'POST /api/queries': json(201, { id: 42 }),
      'GET /api/queries/42': [json(200, query()), json(200, query({ status: 'success', finished_at: ENDED }))],
    })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_ids: [1, 2] })

    streams[0]!.fail()
    expect(store.live).toBe('polling')
    await vi.advanceTimersByTimeAsync(0)
    const first = api.callsTo('GET', '/api/queries/42')
    expect(first).toHaveLength(1)
    expect(first[0]!.query.get('wait_ms')).toBe(String(POLL_INTERVAL_MS))

    // A quick answer (the query still runs) waits its turn before asking again.
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS - 10)
    expect(api.callsTo('GET', '/api/queries/42')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(10)
    expect(store.current?.status).toBe('success')
    expect(store.live).toBe('off')

    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3)
    expect(api.callsTo('GET', '/api/queries/42')).toHaveLength(2)
  })
})

describe('cancelling', () => {
  it('shows the cancelled query and keeps following it until its statements have stopped', async () => {
    const api = mockApi({
      'POST /api/queries': json(201, { id: 42 }),
      'POST /api/queries/42/cancel': json(200, query({ status: 'running' })),
    })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_ids: [1, 2] })
    streams[0]!.emit('snapshot', query())

    await store.cancel(42)

    expect(api.callsTo('POST', '/api/queries/42/cancel')).toHaveLength(1)
    expect(streams[0]!.closed).toBe(false)
    streams[0]!.emit('end', { id: 42, status: 'cancelled' })
    expect(store.current?.status).toBe('cancelled')
    expect(store.live).toBe('off')
  })

  it('stops following at once when the cancel answer has already ended', async () => {
    mockApi({
      'POST /api/queries': json(201, { id: 42 }),
      'POST /api/queries/42/cancel': json(200, query({ status: 'cancelled', finished_at: ENDED })),
    })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_ids: [1, 2] })

    await store.cancel(42)

    expect(store.current?.status).toBe('cancelled')
    expect(streams[0]!.closed).toBe(true)
    expect(store.live).toBe('off')
  })

  it('keeps the query as it was when the cancel is refused (409: it has ended)', async () => {
    mockApi({
      'GET /api/queries/42': json(200, query({ status: 'success', finished_at: ENDED })),
      'POST /api/queries/42/cancel': apiError(409, 'conflict', 'query 42 has already ended'),
    })
    const store = useQueriesStore()
    await store.open(42)

    await expect(store.cancel(42)).rejects.toMatchObject({ status: 409 })
    expect(store.current?.status).toBe('success')
  })
})

describe('opening a query', () => {
  it('shows an ended query from the history without a stream', async () => {
    mockApi({ 'GET /api/queries/42': json(200, query({ status: 'success', finished_at: ENDED })) })
    const store = useQueriesStore()

    await store.open(42)

    expect(store.current?.id).toBe(42)
    expect(streams).toHaveLength(0)
  })

  it("puts the opened query's SQL and targets in the form, so the results sit under what produced them", async () => {
    const stored = query({ sql: 'SELECT 42', targets: { target_ids: [3, 5], target_tags: [] }, row_limit: 10, status: 'success', finished_at: ENDED })
    mockApi({ 'GET /api/queries/42': json(200, stored) })
    const store = useQueriesStore()
    store.draft.sql = 'SELECT something else'

    await store.open(42)

    expect(store.draft).toEqual({ sql: 'SELECT 42', mode: 'targets', targetIds: [3, 5], tags: [], rowLimit: 10, timeoutS: 30 })
  })

  it('keeps the form as the user left it when the console shows the same query again', async () => {
    mockApi({ 'POST /api/queries': json(201, { id: 42 }), 'GET /api/queries/42': json(200, query({ status: 'success', finished_at: ENDED })) })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_ids: [1] })
    await settle()
    store.draft.sql = 'SELECT 2 -- being written'

    await store.open(42)

    expect(store.draft.sql).toBe('SELECT 2 -- being written')
  })

  it('does not interrupt the wait for a query it has just run', async () => {
    const answer = deferred<Response>()
    const api = mockApi({ 'POST /api/queries': json(201, { id: 42 }), 'GET /api/queries/42': () => answer.promise })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_ids: [1] })

    await store.open(42) // the console puts the new id in the address
    answer.resolve(json(200, query({ status: 'success', finished_at: ENDED })))
    await settle()

    expect(api.callsTo('GET', '/api/queries/42')).toHaveLength(1)
    expect(store.current?.status).toBe('success')
  })

  it('drops the answer for a query the console has left', async () => {
    const slow = deferred<Response>()
    mockApi({
      'GET /api/queries/41': () => slow.promise,
      'GET /api/queries/42': json(200, query({ status: 'success', finished_at: ENDED })),
    })
    const store = useQueriesStore()

    const first = store.open(41)
    await store.open(42)
    slow.resolve(json(200, query({ id: 41, status: 'running' })))
    await first

    expect(store.current?.id).toBe(42)
    expect(streams).toHaveLength(0)
  })

  it('fills the form from an earlier query to run it again, with its whole SQL and targets', async () => {
    const earlier = query({ sql: 'SELECT *\nFROM t', targets: { target_ids: [], target_tags: ['prod'] }, row_limit: 50 })
    mockApi({ 'GET /api/queries/42': json(200, earlier) })
    const store = useQueriesStore()

    await store.runAgain(42)

    expect(store.draft).toMatchObject({ sql: 'SELECT *\nFROM t', mode: 'tags', tags: ['prod'], rowLimit: 50 })
    expect(store.activeId).toBeNull()
  })

  it('forgets everything and closes the stream on reset (another user signs in)', async () => {
    mockApi({ 'POST /api/queries': json(201, { id: 42 }) })
    const store = useQueriesStore()
    await store.run({ sql: 'SELECT 1', target_tags: ['prod'] })
    store.draft.sql = 'SELECT secret'

    store.reset()

    expect(streams[0]!.closed).toBe(true)
    expect(store.current).toBeNull()
    expect(store.activeId).toBeNull()
    expect(store.draft.sql).toBe('')
  })
})

describe('history', () => {
  it('sends the filters and page, leaving empty ones out, and keeps the answer', async () => {
    const api = mockApi({
      'GET /api/queries': json(200, { items: [querySummary({ id: 9 }), querySummary({ id: 8 })], total: 41, page: 2, per_page: 20 }),
    })
    const store = useQueriesStore()
    store.filters.status = 'error'
    store.filters.owner = '  '
    store.filters.since = Date.UTC(2026, 10, 1)

    await store.load(2)

    const sent = api.calls[0]!.query
    expect(sent.get('status')).toBe('error')
    expect(sent.get('since')).toBe('2026-11-01T00:00:00Z')
    expect(sent.get('page')).toBe('2')
    expect(sent.has('owner')).toBe(false)
    expect(store.items.map((q) => q.id)).toEqual([9, 8])
    expect(store.total).toBe(41)
  })
})
