// The runs of one script as a long list that a virtual-scrolled table shows:
// pages of GET /api/jobs/{id}/runs are loaded as the rows they hold come into
// view; rows not loaded yet are placeholders, so the scroll bar has the whole
// length from the first answer on. Live run events replace loaded rows in
// place; a run not loaded (a retry's new attempt) reloads what is loaded.
// Answers for an earlier filter are dropped (a generation counter).
import { computed, getCurrentScope, onScopeDispose, ref, shallowRef, type Ref } from 'vue'
import type { RequestOptions } from '@/api/http'
import type { RunQuery } from '@/api/jobs'
import type { JobStatus, Run, RunPage } from '@/api/types'

export const RUNS_PER_PAGE = 100

/** A row not loaded yet. */
export interface PendingRow {
  pending: true
  key: string
}
export type RunRow = Run | PendingRow

export function isPending(row: RunRow): row is PendingRow {
  return 'pending' in row
}

export interface PagedRunsOptions {
  fetchPage: (query: RunQuery, opts: RequestOptions) => Promise<RunPage>
  script: () => number
  /** Only runs with this status; null for all. */
  status: Ref<JobStatus | null>
  /** Attempts a retry replaced are shown only when this is true. */
  showEarlier: Ref<boolean>
  perPage?: number
}

export function usePagedRuns(opts: PagedRunsOptions) {
  const perPage = opts.perPage ?? RUNS_PER_PAGE
  // Page number → its runs, as the server ordered them.
  const pages = shallowRef(new Map<number, Run[]>())
  /** Runs matching the filter, all attempts; null before the first answer. */
  const total = ref<number | null>(null)
  const error = ref<unknown>(null)
  const requested = new Set<number>()
  let generation = 0
  let aborts: AbortController[] = []
  // Run events seen while a page was on its way: laid over the page when it arrives,
  // so an answer computed before an event cannot bring an older state back.
  const seenWhileLoading = new Map<number, Run>()

  const pageCount = computed(() => (total.value === null ? 0 : Math.ceil(total.value / perPage)))

  /** The rows of each page as shown: the loaded runs (filtered), or placeholders. */
  const segments = computed(() => {
    const out: { page: number; rows: RunRow[] }[] = []
    for (let page = 1; page <= pageCount.value; page++) {
      const runs = pages.value.get(page)
      if (runs) {
        out.push({ page, rows: opts.showEarlier.value ? runs : runs.filter((r) => !r.superseded) })
      } else {
        const size = Math.min(perPage, (total.value ?? 0) - (page - 1) * perPage)
        out.push({ page, rows: Array.from({ length: size }, (_, i) => ({ pending: true, key: `p${page}.${i}` })) })
      }
    }
    return out
  })
  const rows = computed(() => segments.value.flatMap((s) => s.rows))

  function setPage(page: number, runs: Run[]): void {
    const next = new Map(pages.value)
    next.set(page, runs)
    pages.value = next
  }

  async function loadPage(page: number, gen = generation): Promise<void> {
    requested.add(page)
    const abort = new AbortController()
    aborts.push(abort)
    try {
      const answer = await opts.fetchPage(
        { script: opts.script(), status: opts.status.value ?? undefined, page, per_page: perPage },
        { signal: abort.signal, silent: true },
      )
      if (gen !== generation) return
      error.value = null
      total.value = answer.total
      setPage(page, seenWhileLoading.size ? answer.items.map((r) => seenWhileLoading.get(r.id) ?? r) : answer.items)
    } catch (err) {
      if (gen !== generation) return
      requested.delete(page)
      error.value = err
    } finally {
      aborts = aborts.filter((a) => a !== abort)
      if (!aborts.length) seenWhileLoading.clear()
    }
  }

  /** Loads the pages that hold the shown rows `first`..`last` (indexes into `rows`). */
  function show(first: number, last: number): void {
    let at = 0
    for (const { page, rows: pageRows } of segments.value) {
      const end = at + pageRows.length
      if (end > first && at <= last && !requested.has(page)) void loadPage(page)
      if (at > last) break
      at = end
    }
  }

  /** From the first page again (the filter changed, or the job is another one). */
  function reset(): Promise<void> {
    generation++
    aborts.forEach((a) => a.abort())
    aborts = []
    requested.clear()
    pages.value = new Map()
    total.value = null
    return loadPage(1)
  }

  /** Loads again every page loaded so far, keeping them shown until their answers arrive. */
  function refresh(): Promise<void> {
    generation++
    const gen = generation
    aborts.forEach((a) => a.abort())
    aborts = []
    const loaded = [...pages.value.keys()]
    requested.clear()
    if (!loaded.length) return loadPage(1, gen)
    return Promise.all(loaded.map((page) => loadPage(page, gen))).then(() => undefined)
  }

  /** A live run event of this script: a loaded row changes in place; an unknown run reloads. */
  function applyRun(run: Run): void {
    if (aborts.length) seenWhileLoading.set(run.id, run)
    for (const [page, runs] of pages.value) {
      const at = runs.findIndex((r) => r.id === run.id)
      if (at < 0) continue
      const next = runs.slice()
      next[at] = run
      setPage(page, next)
      return
    }
    scheduleRefresh()
  }

  // Many new attempts arrive together after a retry: one reload for all of them.
  let refreshTimer: ReturnType<typeof setTimeout> | null = null
  function scheduleRefresh(): void {
    if (refreshTimer !== null) return
    refreshTimer = setTimeout(() => {
      refreshTimer = null
      void refresh()
    }, 300)
  }

  function stop(): void {
    generation++
    aborts.forEach((a) => a.abort())
    aborts = []
    if (refreshTimer !== null) clearTimeout(refreshTimer)
    refreshTimer = null
  }
  if (getCurrentScope()) onScopeDispose(stop)

  return { rows, total, error, show, reset, refresh, applyRun, stop }
}
