// One page of a list and the filters that produced it: the state and loading
// that the audit, jobs and queries stores share.
import { ref, toRaw, type Ref } from 'vue'
import type { RequestOptions } from '@/api/http'
import type { JobQuery } from '@/api/jobs'
import type { QueryListQuery } from '@/api/queries'
import type { JobStatus } from '@/api/types'
import { toRfc3339 } from '@/utils/format'

/** Filters of the lists of things users submit (jobs, queries). */
export interface SubmittedFilters {
  status: JobStatus | null
  owner: string
  /** Epoch milliseconds, as date pickers give them; null for an open end. */
  since: number | null
  until: number | null
}

/** The query parameters both GET /api/jobs and GET /api/queries accept. */
export type SubmittedListQuery = JobQuery & QueryListQuery

/** One page of any list, as every list endpoint answers it. */
export interface Page<T> {
  items: T[]
  total: number
  page: number
  per_page: number
}

export function emptySubmittedFilters(): SubmittedFilters {
  return { status: null, owner: '', since: null, until: null }
}

export function toSubmittedQuery(filters: SubmittedFilters, page: number, perPage: number): SubmittedListQuery {
  return {
    status: filters.status ?? undefined,
    owner: filters.owner.trim() || undefined,
    since: filters.since === null ? undefined : toRfc3339(filters.since),
    until: filters.until === null ? undefined : toRfc3339(filters.until),
    page,
    per_page: perPage,
  }
}

/**
 * The filters, the page shown, `load` and `refresh`, for use inside a setup store.
 * Answers can arrive out of order when filters change quickly; only the latest
 * request may write the page.
 */
export function usePagedList<F, T>(
  emptyFilters: () => F,
  fetchPage: (filters: F, page: number, perPage: number, opts?: RequestOptions) => Promise<Page<T>>,
  defaultPerPage: number,
) {
  const filters = ref(emptyFilters()) as Ref<F>
  const items = ref([]) as Ref<T[]>
  const total = ref(0)
  const page = ref(1)
  const perPage = ref(defaultPerPage)
  const loading = ref(false)
  let latest = 0
  /** What the shown page was asked with: a refresh asks the same, not the filters being edited. */
  let shown: { filters: F; page: number; perPage: number } | null = null

  function keep(res: Page<T>): void {
    items.value = res.items
    total.value = res.total
    page.value = res.page
    perPage.value = res.per_page
  }

  async function load(nextPage = page.value, nextPerPage = perPage.value): Promise<void> {
    const ticket = ++latest
    const asked = structuredClone(toRaw(filters.value))
    loading.value = true
    try {
      const res = await fetchPage(asked, nextPage, nextPerPage)
      if (ticket !== latest) return
      keep(res)
      shown = { filters: asked, page: res.page, perPage: res.per_page }
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /**
   * The shown page asked for again, quietly (no loading state, no toast: a poll).
   * Resolves true when its items changed; false when they did not, or when a
   * load is under way or overtook it.
   */
  async function refresh(): Promise<boolean> {
    if (loading.value || shown === null) return false
    const ticket = ++latest
    const res = await fetchPage(shown.filters, shown.page, shown.perPage, { silent: true })
    if (ticket !== latest) return false
    const changed = JSON.stringify(res.items) !== JSON.stringify(items.value) || res.total !== total.value
    keep(res)
    return changed
  }

  function resetFilters(): void {
    filters.value = emptyFilters()
  }

  /** Back to no filters and an empty first page (on logout). */
  function resetList(): void {
    resetFilters()
    items.value = []
    total.value = 0
    page.value = 1
    perPage.value = defaultPerPage
    shown = null
    latest++
  }

  return { filters, items, total, page, perPage, loading, load, refresh, resetFilters, resetList }
}
