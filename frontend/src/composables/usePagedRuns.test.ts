import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, ref } from 'vue'
import type { RequestOptions } from '@/api/http'
import type { RunQuery } from '@/api/jobs'
import type { JobStatus, Run, RunPage } from '@/api/types'
import { run } from '@/test/fixtures'
import { isPending, usePagedRuns } from './usePagedRuns'

const PER_PAGE = 10

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** A fake paged endpoint over `all`; each request waits until the test answers it. */
function fakeServer(all: Run[]) {
  const asked: { query: RunQuery; opts: RequestOptions; answer: () => void }[] = []
  const fetchPage = vi.fn(
    (query: RunQuery, opts: RequestOptions) =>
      new Promise<RunPage>((resolve) => {
        const answer = () => {
          const matching = all.filter((r) => !query.status || r.status === query.status)
          const page = query.page ?? 1
          const items = matching.slice((page - 1) * PER_PAGE, page * PER_PAGE)
          resolve({ items, total: matching.length, page, per_page: PER_PAGE })
        }
        asked.push({ query, opts, answer })
      }),
  )
  /** Answers every request asked so far. */
  const answerAll = async () => {
    for (const a of asked.splice(0)) a.answer()
    await vi.advanceTimersByTimeAsync(0)
  }
  return { fetchPage, asked, answerAll }
}

function runs(n: number, change: (i: number) => Partial<Run> = () => ({})): Run[] {
  return Array.from({ length: n }, (_, i) => run({ id: i + 1, target_id: i + 1, target_name: `t${i}`, ...change(i) }))
}

function setup(all: Run[]) {
  const server = fakeServer(all)
  const status = ref<JobStatus | null>(null)
  const showEarlier = ref(false)
  const scope = effectScope()
  const paged = scope.run(() =>
    usePagedRuns({ fetchPage: server.fetchPage, script: () => 2, status, showEarlier, perPage: PER_PAGE }),
  )!
  return { ...server, paged, status, showEarlier, scope }
}

describe('the paged runs of a script', () => {
  it('has the whole length after the first page, with rows not loaded yet as placeholders', async () => {
    const { paged, asked, answerAll } = setup(runs(35))
    void paged.reset()
    expect(asked[0]!.query).toEqual({ script: 2, status: undefined, page: 1, per_page: PER_PAGE })
    await answerAll()

    expect(paged.total.value).toBe(35)
    expect(paged.rows.value).toHaveLength(35)
    expect(paged.rows.value.slice(0, 10).every((r) => !isPending(r))).toBe(true)
    expect(paged.rows.value.slice(10).every(isPending)).toBe(true)
  })

  it('loads only the pages of the rows shown, once each', async () => {
    const { paged, asked, fetchPage, answerAll } = setup(runs(35))
    void paged.reset()
    await answerAll()

    paged.show(28, 34)
    paged.show(29, 34)
    expect(asked.map((a) => a.query.page)).toEqual([3, 4])
    await answerAll()

    expect(fetchPage).toHaveBeenCalledTimes(3)
    expect(paged.rows.value.slice(20).every((r) => !isPending(r))).toBe(true)
    expect(paged.rows.value.slice(10, 20).every(isPending)).toBe(true)
    const last = paged.rows.value[34]!
    expect(!isPending(last) && last.id).toBe(35)
  })

  it('asks the server for one status, and drops an answer for the filter it had before', async () => {
    const all = runs(30, (i) => ({ status: i % 3 === 0 ? 'error' : 'success' }))
    const { paged, asked, status, answerAll } = setup(all)
    void paged.reset()
    const before = asked[0]!

    status.value = 'error'
    void paged.reset()
    expect(asked[1]!.query.status).toBe('error')
    expect(before.opts.signal?.aborted).toBe(true)
    await answerAll()

    expect(paged.total.value).toBe(10)
    expect(paged.rows.value.every((r) => !isPending(r) && r.status === 'error')).toBe(true)
  })

  it('hides attempts a retry replaced unless asked to show them', async () => {
    const all = runs(4, (i) => ({ superseded: i === 1 }))
    const { paged, showEarlier, answerAll } = setup(all)
    void paged.reset()
    await answerAll()

    expect(paged.rows.value).toHaveLength(3)
    showEarlier.value = true
    expect(paged.rows.value).toHaveLength(4)
  })

  it('changes a loaded row in place on a live run event', async () => {
    const { paged, fetchPage, answerAll } = setup(runs(5))
    void paged.reset()
    await answerAll()

    paged.applyRun(run({ id: 3, target_id: 3, target_name: 't2', status: 'success' }))

    const row = paged.rows.value[2]!
    expect(!isPending(row) && row.status).toBe('success')
    expect(fetchPage).toHaveBeenCalledOnce()
  })

  it('keeps a live event that arrived while its page was on the way over the older answer', async () => {
    const { paged, answerAll } = setup(runs(5))
    void paged.reset()

    paged.applyRun(run({ id: 2, target_id: 2, target_name: 't1', status: 'running' }))
    await answerAll()

    const row = paged.rows.value[1]!
    expect(!isPending(row) && row.status).toBe('running')
  })

  it('reloads what is loaded, once, when runs it has not loaded appear (a retry)', async () => {
    const all = runs(5)
    const { paged, asked, answerAll } = setup(all)
    void paged.reset()
    await answerAll()

    all.push(run({ id: 6, target_id: 1, target_name: 't0', attempt: 2 }), run({ id: 7, target_id: 2, attempt: 2 }))
    paged.applyRun(all[5]!)
    paged.applyRun(all[6]!)
    expect(asked).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(300)
    expect(asked.map((a) => a.query.page)).toEqual([1])
    await answerAll()

    expect(paged.total.value).toBe(7)
  })

  it('stops asking when its scope ends', async () => {
    const { paged, asked, scope, fetchPage } = setup(runs(5))
    void paged.reset()
    await vi.advanceTimersByTimeAsync(0)
    paged.applyRun(run({ id: 99 }))

    scope.stop()
    await vi.advanceTimersByTimeAsync(1000)

    expect(asked[0]!.opts.signal?.aborted).toBe(true)
    expect(fetchPage).toHaveBeenCalledOnce()
  })
})
