// SQL helpers: /api/sql/*.
import { http, type RequestOptions } from './http'
import type { SplitRequest, SplitResponse } from './types'

export const sqlApi = {
  /** How the server will cut a script into statements for one engine. */
  split: (body: SplitRequest, opts?: RequestOptions) => http.post<SplitResponse>('/sql/split', body, opts),
}
