// What every paged list page (audit, jobs, query history) does with its store:
// the date range picker bound to the filters, search and reset (back to the
// first page), and the table's pagination.
import type { PaginationProps } from 'naive-ui'
import { computed } from 'vue'
import { useI18n } from 'vue-i18n'
import { endOfDay } from '@/utils/format'

/** The part of a paged-list store (see stores/pagedList.ts) a list page uses. */
interface PagedStore {
  filters: { since: number | null; until: number | null }
  page: number
  perPage: number
  total: number
  load(page?: number, perPage?: number): Promise<void>
  resetFilters(): void
}

export function useListPage(store: PagedStore) {
  const { t } = useI18n()

  // The picker gives the start of each chosen day; the range includes the whole last day.
  const range = computed<[number, number] | null>({
    get: (): [number, number] | null => {
      const { since, until } = store.filters
      return since !== null && until !== null ? [since, until] : null
    },
    set: (value: [number, number] | null) => {
      store.filters.since = value ? value[0] : null
      store.filters.until = value ? endOfDay(value[1]) : null
    },
  })

  function search(): void {
    void store.load(1)
  }

  function resetFilters(): void {
    store.resetFilters()
    void store.load(1)
  }

  const pagination = computed<PaginationProps>(() => ({
    page: store.page,
    pageSize: store.perPage,
    itemCount: store.total,
    showSizePicker: true,
    pageSizes: [20, 50, 100],
    prefix: ({ itemCount }) => t('common.total', { n: itemCount ?? 0 }),
  }))

  return { range, search, resetFilters, pagination }
}
