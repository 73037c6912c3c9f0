// SQL helpers: /api/sql/*.
import { api, call, type RequestOptions } from './http'
import type { SplitRequest } from './types'

export const sqlApi = {
  /** How the server will cut a script into statements for one engine. */
  split: (body: SplitRequest, opts?: RequestOptions) => call(opts, (init) => api.POST('/api/sql/split', { ...init, body })),
}
