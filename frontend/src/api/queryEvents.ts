// Live progress of one query: GET /api/queries/{id}/events as Server-Sent Events,
// followed by `useLiveResource` (snapshot with the rows of ended results, these
// events, then `end`).
import { buildUrl } from './http'
import type { QueryResultEvent, QueryStatusEvent } from './types'

/** The incremental events of the query stream, by name. */
export interface QueryStreamEvents {
  /** One target × statement has ended, with its rows. */
  result: QueryResultEvent
  status: QueryStatusEvent
}

export function queryEventsUrl(id: number): string {
  return buildUrl(`/queries/${id}/events`)
}
