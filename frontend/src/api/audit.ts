// The audit log (admin only): /api/audit.
import { http, type RequestOptions } from './http'
import type { AuditPage } from './types'

/** Query parameters of GET /api/audit; empty values are left out of the URL. */
export interface AuditQuery {
  actor?: string
  action?: string
  object_type?: string
  /** RFC 3339, inclusive lower bound. */
  since?: string
  /** RFC 3339, upper bound. */
  until?: string
  page?: number
  per_page?: number
}

export const auditApi = {
  list: (query: AuditQuery, opts?: RequestOptions) =>
    http.get<AuditPage>('/audit', { ...opts, query: { ...query } }),
}
