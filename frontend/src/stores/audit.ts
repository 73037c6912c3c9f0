// One page of the audit log and the filters that produced it.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { auditApi, type AuditQuery } from '@/api/audit'
import type { AuditEntry } from '@/api/types'
import { toRfc3339 } from '@/utils/format'

export interface AuditFilters {
  actor: string
  action: string
  objectType: string
  /** Epoch milliseconds, as date pickers give them; null for an open end. */
  since: number | null
  until: number | null
}

export const DEFAULT_PER_PAGE = 50

function emptyFilters(): AuditFilters {
  return { actor: '', action: '', objectType: '', since: null, until: null }
}

export function toQuery(filters: AuditFilters, page: number, perPage: number): AuditQuery {
  return {
    actor: filters.actor.trim() || undefined,
    action: filters.action.trim() || undefined,
    object_type: filters.objectType.trim() || undefined,
    since: filters.since === null ? undefined : toRfc3339(filters.since),
    until: filters.until === null ? undefined : toRfc3339(filters.until),
    page,
    per_page: perPage,
  }
}

export const useAuditStore = defineStore('audit', () => {
  const filters = ref<AuditFilters>(emptyFilters())
  const items = ref<AuditEntry[]>([])
  const total = ref(0)
  const page = ref(1)
  const perPage = ref(DEFAULT_PER_PAGE)
  const loading = ref(false)
  // Answers can arrive out of order when filters change quickly; only the
  // latest request may write the page.
  let latest = 0

  async function load(nextPage = page.value, nextPerPage = perPage.value): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const res = await auditApi.list(toQuery(filters.value, nextPage, nextPerPage))
      if (ticket !== latest) return
      items.value = res.items
      total.value = res.total
      page.value = res.page
      perPage.value = res.per_page
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  function resetFilters(): void {
    filters.value = emptyFilters()
  }

  function reset(): void {
    resetFilters()
    items.value = []
    total.value = 0
    page.value = 1
    perPage.value = DEFAULT_PER_PAGE
  }

  return { filters, items, total, page, perPage, loading, load, resetFilters, reset }
})
