// The audit log (admin only): /api/audit.
import { api, call, type RequestOptions } from './http'
import type { paths } from './schema'

/** Query parameters of GET /api/audit; empty values are left out of the URL. */
export type AuditQuery = NonNullable<paths['/api/audit']['get']['parameters']['query']>

export const auditApi = {
  list: (query: AuditQuery, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/audit', { ...init, params: { query } })),
}
