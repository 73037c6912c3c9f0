// Read-only queries: /api/queries/*. Live progress comes from `openQueryEvents`
// (queryEvents.ts); CSV exports are plain links, so the browser streams them.
import { buildUrl, http, type RequestOptions } from './http'
import type { SubmittedListQuery } from './lists'
import type { CreatedQuery, Query, QueryInput, QueryPage } from './types'

/** The longest `wait_ms` the server accepts. */
export const MAX_WAIT_MS = 10_000

/** Query parameters of GET /api/queries. */
export type QueryListQuery = SubmittedListQuery

export const queriesApi = {
  list: (query: QueryListQuery, opts?: RequestOptions) =>
    http.get<QueryPage>('/queries', { ...opts, query: { ...query } }),
  /** With `waitMs`, the server answers as soon as the query has ended, or after that long. */
  get: (id: number, waitMs?: number, opts?: RequestOptions) =>
    http.get<Query>(`/queries/${id}`, { ...opts, query: { ...opts?.query, wait_ms: waitMs } }),
  submit: (body: QueryInput, opts?: RequestOptions) => http.post<CreatedQuery>('/queries', body, opts),
  cancel: (id: number, opts?: RequestOptions) => http.post<Query>(`/queries/${id}/cancel`, undefined, opts),
}

/**
 * The CSV of one statement's result on one target. The server re-runs the
 * statement read-only when the page it kept was truncated. `nullMarker` writes
 * NULL as that text instead of an empty field.
 */
export function resultCsvUrl(id: number, targetId: number, statement: number, nullMarker?: string): string {
  return buildUrl(`/queries/${id}/results/${targetId}.csv`, { statement, null: nullMarker })
}
