// Live progress of one query: GET /api/queries/{id}/events as Server-Sent Events.
import { openEventStream } from './eventStream'
import { buildUrl } from './http'
import type { Query, QueryEndEvent, QueryResultEvent, QueryStatusEvent } from './types'

interface QueryEvents {
  snapshot: Query
  result: QueryResultEvent
  status: QueryStatusEvent
  end: QueryEndEvent
}

export interface QueryEventHandlers {
  /** The whole query, rows of the results that have ended included. */
  snapshot: (query: Query) => void
  /** One target × statement has ended, with its rows. */
  result: (event: QueryResultEvent) => void
  status: (event: QueryStatusEvent) => void
  /** The query has ended; the stream is already closed. */
  end: (event: QueryEndEvent) => void
  /** The stream could not open, broke, or the server sent an `error` event; it is closed. */
  error: () => void
}

export function queryEventsUrl(id: number): string {
  return buildUrl(`/queries/${id}/events`)
}

/** Opens the stream; the returned function closes it (idempotent). */
export function openQueryEvents(id: number, handlers: QueryEventHandlers): () => void {
  const { error, ...events } = handlers
  return openEventStream<QueryEvents>(queryEventsUrl(id), events, { end: 'end', error })
}
