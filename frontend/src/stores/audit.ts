// One page of the audit log and the filters that produced it.
import { defineStore } from 'pinia'
import { auditApi, type AuditQuery } from '@/api/audit'
import { toRfc3339 } from '@/utils/format'
import { usePagedList } from './pagedList'
import { forgetOnUserChange } from './reset'

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
  const list = usePagedList(emptyFilters, (f, page, perPage) => auditApi.list(toQuery(f, page, perPage)), DEFAULT_PER_PAGE)
  const { filters, items, total, page, perPage, loading, load, resetFilters } = list

  forgetOnUserChange(list.resetList)
  return { filters, items, total, page, perPage, loading, load, resetFilters, reset: list.resetList }
})
