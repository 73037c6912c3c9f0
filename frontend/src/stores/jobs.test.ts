import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { configureHttp } from '@/api/http'
import { installFakeEventSource, type FakeEventSource } from '@/test/fakeEventSource'
import { job, jobSummary, run, script } from '@/test/fixtures'
import { apiError, deferred, json, mockApi } from '@/test/mockApi'
import { POLL_INTERVAL_MS, toQuery, useJobsStore } from './jobs'

const ENDED = '2026-11-28T00:00:05Z'
let streams: FakeEventSource[]

beforeEach(() => {
  setActivePinia(createPinia())
  configureHttp({ onError: vi.fn() })
  streams = installFakeEventSource()
})

afterEach(() => {
  vi.useRealTimers()
})


describe('jobs list', () => {
  it('builds the query from the filters, leaving empty ones out', () => {
    const since = Date.UTC(2026, 10, 1)
    expect(toQuery({ status: 'error', owner: ' bob ', since, until: null, q: ' 50% off ' }, 3, 20)).toEqual({
      status: 'error',
      owner: 'bob',
      since: '2026-11-01T00:00:00Z',
      until: undefined,
      q: '50% off',
      page: 3,
      per_page: 20,
    })
    expect(toQuery({ status: null, owner: '  ', since: null, until: null, q: ' ' }, 1, 50)).toMatchObject({
      status: undefined,
      owner: undefined,
      q: undefined,
    })
  })

  it('sends the filters and page to the API and keeps the answer', async () => {
    const api = mockApi({
      'GET /api/jobs': json(200, { items: [jobSummary({ id: 9 }), jobSummary({ id: 8 })], total: 41, page: 2, per_page: 20 }),
    })
    const store = useJobsStore()
    store.filters.status = 'running'
    store.filters.q = 'Nightly_'

    await store.load(2)

    const query = api.calls[0]!.query
    expect(query.get('status')).toBe('running')
    expect(query.get('q')).toBe('Nightly_')
    expect(query.get('page')).toBe('2')
    expect(query.has('owner')).toBe(false)
    expect(store.items.map((j) => j.id)).toEqual([9, 8])
    expect(store.total).toBe(41)
  })
})

describe('jobs list refresh', () => {
  it('asks again for the shown page with its filters as loaded, quietly, and says whether it changed', async () => {
    const onError = vi.fn()
    configureHttp({ onError })
    const running = jobSummary({ id: 9, status: 'running', finished_at: null })
    const done = jobSummary({ id: 9, status: 'success', finished_at: ENDED })
    const api = mockApi({
      'GET /api/jobs': [
        json(200, { items: [running], total: 1, page: 2, per_page: 20 }),
        json(200, { items: [running], total: 1, page: 2, per_page: 20 }),
        json(200, { items: [done], total: 1, page: 2, per_page: 20 }),
        apiError(503, 'store_unavailable', 'down'),
      ],
    })
    const store = useJobsStore()
    store.filters.status = 'running'
    await store.load(2)
    // Edited but not searched yet: a refresh keeps to what the page shows.
    store.filters.status = 'error'

    expect(await store.refresh()).toBe(false)
    expect(store.loading).toBe(false)
    expect(await store.refresh()).toBe(true)
    expect(store.items[0]!.status).toBe('success')
    for (const call of api.calls) {
      expect(call.query.get('status')).toBe('running')
      expect(call.query.get('page')).toBe('2')
    }
    await expect(store.refresh()).rejects.toThrow('down')
    expect(onError).not.toHaveBeenCalled()
    expect(store.items[0]!.status).toBe('success')
  })

  it('does nothing before the first load, and yields to a load under way', async () => {
    const reply = deferred<Response>()
    const api = mockApi({ 'GET /api/jobs': () => reply.promise })
    const store = useJobsStore()
    expect(await store.refresh()).toBe(false)
    expect(api.calls).toHaveLength(0)
    const loading = store.load()
    expect(await store.refresh()).toBe(false)
    reply.resolve(json(200, { items: [], total: 0, page: 1, per_page: 20 }))
    await loading
    expect(api.calls).toHaveLength(1)
  })
})

describe('the open job', () => {
  it('follows a running job through its event stream and closes it at the end', async () => {
    mockApi({ 'GET /api/jobs/7': json(200, job({ status: 'running' })) })
    const store = useJobsStore()

    await store.open(7)
    const stream = streams[0]!
    expect(stream.url).toBe('/api/jobs/7/events')
    expect(store.live).toBe('events')

    stream.emit('snapshot', job({ status: 'running', scripts: [script({ runs: [run({ id: 1, status: 'running' })] })] }))
    stream.emit('run', { job_id: 7, script_index: 0, run: run({ id: 1, status: 'success', statements_done: 2, statements_total: 2 }) })
    stream.emit('script', { job_id: 7, index: 0, status: 'success' })
    stream.emit('job', { id: 7, status: 'success', attempt: 1, started_at: ENDED, finished_at: ENDED })
    stream.emit('end', { id: 7, status: 'success' })

    expect(store.current?.status).toBe('success')
    expect(store.current?.scripts[0]?.status).toBe('success')
    expect(store.current?.scripts[0]?.runs[0]).toMatchObject({ status: 'success', statements_done: 2 })
    expect(stream.closed).toBe(true)
    expect(store.live).toBe('off')
  })

  it('tells the run table of each live run event, and of each time the job was replaced whole', async () => {
    mockApi({ 'GET /api/jobs/7': json(200, job({ status: 'running' })) })
    const store = useJobsStore()
    const heard: number[] = []
    const unsubscribe = store.onRunEvent((e) => heard.push(e.run.id))
    await store.open(7)
    const afterLoad = store.replaced

    streams[0]!.emit('snapshot', job({ status: 'running', scripts: [script({ runs: [run({ id: 1 }), run({ id: 2 })] })] }))
    expect(store.replaced).toBe(afterLoad + 1)
    streams[0]!.emit('run', { job_id: 7, script_index: 0, run: run({ id: 2, status: 'running' }) })
    unsubscribe()
    streams[0]!.emit('run', { job_id: 7, script_index: 0, run: run({ id: 1, status: 'running' }) })

    expect(heard).toEqual([2])
    expect(store.replaced).toBe(afterLoad + 1)
    expect(store.current?.scripts[0]?.counts).toMatchObject({ running: 2, waiting: 0 })
  })

  it('follows a job it has just submitted through its stream, without asking for it again', async () => {
    const api = mockApi({ 'POST /api/jobs': json(201, job({ id: 7, status: 'waiting' })) })
    const store = useJobsStore()

    await store.submit({ name: 'add index', scripts: [{ sql: 'SELECT 1;', target_ids: [1] }] })
    await store.open(7)
    streams[0]!.emit('snapshot', job({ id: 7, status: 'running' }))

    expect(api.callsTo('GET', '/api/jobs/7')).toHaveLength(0)
    expect(streams.map((s) => s.url)).toEqual(['/api/jobs/7/events'])
    expect(store.current?.status).toBe('running')
  })

  it('leaves a missing job to the page (its empty state): no toast, other errors still toasted', async () => {
    const onError = vi.fn()
    configureHttp({ onError })
    mockApi({
      'GET /api/jobs/999': apiError(404, 'not_found', 'job not found'),
      'GET /api/jobs/998': apiError(503, 'store_unavailable', 'down'),
    })
    const store = useJobsStore()

    await expect(store.open(999)).rejects.toMatchObject({ status: 404 })
    expect(onError).not.toHaveBeenCalled()
    await expect(store.open(998)).rejects.toMatchObject({ status: 503 })
    expect(onError).toHaveBeenCalledOnce()
  })

  it('opens no stream for a job that has already ended', async () => {
    mockApi({ 'GET /api/jobs/7': json(200, job({ status: 'success', finished_at: ENDED })) })
    const store = useJobsStore()

    await store.open(7)

    expect(streams).toHaveLength(0)
    expect(store.current?.status).toBe('success')
  })

  it('polls at once and then every 2 s when the stream fails, until the job has ended', async () => {
    vi.useFakeTimers()
    const api = mockApi({
      'GET /api/jobs/7': [
        json(200, job({ status: 'running' })),
        json(200, job({ status: 'running' })),
        json(200, job({ status: 'running' })),
        json(200, job({ status: 'error', finished_at: ENDED })),
      ],
    })
    const store = useJobsStore()
    await store.open(7)

    streams[0]!.fail()
    expect(streams[0]!.closed).toBe(true)
    expect(store.live).toBe('polling')
    await vi.advanceTimersByTimeAsync(0)
    expect(api.callsTo('GET', '/api/jobs/7')).toHaveLength(2)
    expect(api.callsTo('GET', '/api/jobs/7')[1]!.headers.get('Accept')).toBe('application/json')

    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS - 1)
    expect(api.callsTo('GET', '/api/jobs/7')).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(api.callsTo('GET', '/api/jobs/7')).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS)
    expect(store.current?.status).toBe('error')
    expect(store.live).toBe('off')

    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3)
    expect(api.callsTo('GET', '/api/jobs/7')).toHaveLength(4)
    // The job ended while polling: the stream is not tried again either.
    expect(streams).toHaveLength(1)
  })

  it('stops following the job when the page is left', async () => {
    vi.useFakeTimers()
    const api = mockApi({ 'GET /api/jobs/7': json(200, job({ status: 'running' })) })
    const store = useJobsStore()
    await store.open(7)
    const first = streams[0]!

    store.close()
    expect(first.closed).toBe(true)

    await store.open(7)
    streams[1]!.fail()
    store.close()
    await vi.advanceTimersByTimeAsync(0)
    const asked = api.callsTo('GET', '/api/jobs/7').length
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3)

    expect(api.callsTo('GET', '/api/jobs/7')).toHaveLength(asked)
    expect(store.live).toBe('off')
  })

  it('drops a poll answer that arrives after the page was left', async () => {
    vi.useFakeTimers()
    const late = deferred<Response>()
    const api = mockApi({ 'GET /api/jobs/7': [json(200, job({ status: 'running' })), () => late.promise] })
    const store = useJobsStore()
    await store.open(7)
    streams[0]!.fail()
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS)

    store.close()
    late.resolve(json(200, job({ status: 'running', attempt: 2 })))
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3)

    expect(store.current?.attempt).toBe(1)
    expect(api.callsTo('GET', '/api/jobs/7')).toHaveLength(2)
  })

  it('ignores the answer for a job the page has already left', async () => {
    const slowAnswer = deferred<Response>()
    mockApi({
      'GET /api/jobs/7': () => slowAnswer.promise,
      'GET /api/jobs/8': json(200, job({ id: 8, status: 'running' })),
    })
    const store = useJobsStore()

    const slow = store.open(7)
    await store.open(8)
    slowAnswer.resolve(json(200, job({ id: 7, status: 'running' })))
    await slow

    expect(store.current?.id).toBe(8)
    expect(streams.map((s) => s.url)).toEqual(['/api/jobs/8/events'])
  })

  it('follows the job again after a retry', async () => {
    const failed = job({ status: 'error', finished_at: ENDED, scripts: [script({ runs: [run({ status: 'error' })] })] })
    mockApi({
      'GET /api/jobs/7': json(200, failed),
      'POST /api/jobs/7/retry': json(200, job({ status: 'waiting', attempt: 2 })),
    })
    const store = useJobsStore()
    await store.open(7)
    expect(streams).toHaveLength(0)

    await store.retry(7)

    expect(store.current?.attempt).toBe(2)
    expect(streams).toHaveLength(1)
    expect(store.live).toBe('events')
  })

  it('sends where a retry starts, and no choice as an empty body', async () => {
    const api = mockApi({ 'POST /api/jobs/7/retry': [json(200, job({ attempt: 2 })), json(200, job({ attempt: 3 }))] })
    const store = useJobsStore()
    await store.retry(7, 'next_statement')
    await store.retry(7)
    expect(api.calls.map((c) => c.body)).toEqual([{ from: 'next_statement' }, {}])
  })

  it('keeps the job as it was when a cancel is refused', async () => {
    mockApi({
      'GET /api/jobs/7': json(200, job({ status: 'success', finished_at: ENDED })),
      'POST /api/jobs/7/cancel': apiError(409, 'conflict', 'job 7 has already ended'),
    })
    const store = useJobsStore()
    await store.open(7)

    await expect(store.cancel(7)).rejects.toMatchObject({ status: 409 })
    expect(store.current?.status).toBe('success')
  })

  it('forgets the job and closes its stream on reset (another user signs in)', async () => {
    mockApi({ 'GET /api/jobs/7': json(200, job({ status: 'running' })) })
    const store = useJobsStore()
    await store.open(7)

    store.reset()

    expect(store.current).toBeNull()
    expect(streams[0]!.closed).toBe(true)
  })
})
