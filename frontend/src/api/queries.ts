// Read-only queries: /api/queries/*. Live progress comes from the query's event
// stream (queryEvents.ts); CSV exports are plain links, so the browser streams them.
import { api, buildUrl, call, type RequestOptions } from './http'
import type { components, paths } from './schema'
import type { Query, QueryInput } from './types'

type Schemas = components['schemas']

/** The longest `wait_ms` the server accepts. */
export const MAX_WAIT_MS = 10_000

/** Query parameters of GET /api/queries. */
export type QueryListQuery = NonNullable<paths['/api/queries']['get']['parameters']['query']>

export const queriesApi = {
  list: (query: QueryListQuery, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/queries', { ...init, params: { query } })),
  /** With `waitMs`, the server answers as soon as the query has ended, or after that long. */
  get: (id: number, waitMs?: number, opts?: RequestOptions): Promise<Query> =>
    call(opts, (init) =>
      api.GET('/api/queries/{id}', { ...init, params: { path: { id }, query: { wait_ms: waitMs } } }),
    ).then(asQuery),
  submit: (body: QueryInput, opts?: RequestOptions) => call(opts, (init) => api.POST('/api/queries', { ...init, body })),
  cancel: (id: number, opts?: RequestOptions): Promise<Query> =>
    call(opts, (init) => api.POST('/api/queries/{id}/cancel', { ...init, params: { path: { id } } })).then(asQuery),
}

/**
 * The CSV of one statement's result on one target. The server re-runs the
 * statement read-only when the page it kept was truncated. `nullMarker` writes
 * NULL as that text instead of an empty field.
 */
export function resultCsvUrl(id: number, targetId: number, statement: number, nullMarker?: string): string {
  return buildUrl(`/queries/${id}/results/${targetId}.csv`, { statement, null: nullMarker })
}

/**
 * The one place a query from the API is read as the refined `Query` of types.ts:
 * the OpenAPI document describes result cells only as objects and the target
 * selector only as a map (see types.ts), so the generated type is wider than the contract.
 */
function asQuery(query: Schemas['Query']): Query {
  return query as unknown as Query
}
