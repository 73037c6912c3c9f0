// Rules about queries shared by the store and the pages: who may run them,
// when one has ended, how a live event changes a cached query (always into a
// new object), and how results group by target.
import type { Query, QueryResult, QueryResultEvent, QueryStatusEvent, Status, User } from '@/api/types'
import { QUERY_ROLES } from './roles'

export { QUERY_ROLES }

export function canRunQueries(user: User | null): boolean {
  return user !== null && QUERY_ROLES.includes(user.role)
}

/** The server's own test for cancel (409 once ended). */
export function isQueryEnded(query: Pick<Query, 'finished_at'>): boolean {
  return !!query.finished_at
}

/** The owner and admins may cancel a query that is still running. */
export function canCancelQuery(user: User | null, query: Query): boolean {
  if (user === null || isQueryEnded(query)) return false
  return user.username === query.created_by || user.role === 'admin'
}

function sameSlot(a: QueryResult, b: QueryResult): boolean {
  return a.target_id === b.target_id && a.statement_index === b.statement_index
}

/** One target × statement has ended: its result (with rows) replaces the waiting one. */
export function applyResultEvent(query: Query, event: QueryResultEvent): Query {
  if (event.query_id !== query.id) return query
  const known = query.results.some((r) => sameSlot(r, event.result))
  const results = known
    ? query.results.map((r) => (sameSlot(r, event.result) ? event.result : r))
    : [...query.results, event.result]
  return { ...query, results }
}

export function applyStatusEvent(query: Query, event: QueryStatusEvent): Query {
  if (event.id !== query.id) return query
  return { ...query, status: event.status }
}

/**
 * The query has ended. The event carries no end time: the last result's is
 * the query's (the query ends with its last result), so no request is needed.
 */
export function applyEndEvent(query: Query, event: QueryStatusEvent): Query {
  if (event.id !== query.id) return query
  let last: string | null = null
  for (const r of query.results) {
    if (r.finished_at && (last === null || Date.parse(r.finished_at) > Date.parse(last))) last = r.finished_at
  }
  const finished_at = query.finished_at ?? last ?? new Date().toISOString()
  return { ...query, status: event.status, finished_at }
}

export interface TargetResults {
  targetId: number
  targetName: string
  /** The target's overall state, from its statements. */
  status: Status
  /** Its statements in order. */
  results: QueryResult[]
}

/** A target's state: running while any statement runs, else the worst outcome. */
export function targetStatus(results: readonly QueryResult[]): Status {
  const has = (status: Status) => results.some((r) => r.status === status)
  for (const status of ['running', 'waiting', 'error', 'cancelled'] as const) if (has(status)) return status
  return results.length ? 'success' : 'waiting'
}

/** Results grouped by target (by name), statements in order. */
export function groupByTarget(results: readonly QueryResult[]): TargetResults[] {
  const groups = new Map<number, QueryResult[]>()
  for (const r of results) groups.set(r.target_id, [...(groups.get(r.target_id) ?? []), r])
  return [...groups.values()]
    .map((list) => {
      const sorted = [...list].sort((a, b) => a.statement_index - b.statement_index)
      const first = sorted[0]!
      return { targetId: first.target_id, targetName: first.target_name, status: targetStatus(sorted), results: sorted }
    })
    .sort((a, b) => a.targetName.localeCompare(b.targetName) || a.targetId - b.targetId)
}

/** How many of the query's targets have ended (every statement), for a progress line. */
export function targetsEnded(query: Query): { ended: number; total: number } {
  const groups = groupByTarget(query.results)
  const ended = groups.filter((g) => g.status !== 'running' && g.status !== 'waiting').length
  return { ended, total: groups.length }
}
