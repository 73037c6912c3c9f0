// The query console's form: what is sent, what is checked before sending,
// where a server 400 `field` belongs, and a draft rebuilt from an earlier query
// ("Run again").
import type { Query, QueryInput } from '@/api/types'
import type { TargetMode } from './jobForm'

export type { TargetMode }

export interface QueryDraft {
  sql: string
  mode: TargetMode
  targetIds: number[]
  tags: string[]
  /** Null: the server's default. */
  rowLimit: number | null
  timeoutS: number | null
}

/** The form's fields that can carry a message. */
export type QueryField = 'sql' | 'targets' | 'rowLimit' | 'timeoutS'

export function emptyQueryDraft(): QueryDraft {
  return { sql: '', mode: 'targets', targetIds: [], tags: [], rowLimit: null, timeoutS: null }
}

export function toQueryInput(draft: QueryDraft): QueryInput {
  const limits = {
    row_limit: draft.rowLimit ?? undefined,
    timeout_s: draft.timeoutS ?? undefined,
  }
  return draft.mode === 'targets'
    ? { sql: draft.sql, target_ids: [...draft.targetIds], ...limits }
    : { sql: draft.sql, target_tags: [...draft.tags], ...limits }
}

export type QueryErrorCode = 'sqlRequired' | 'targetsRequired' | 'tagsRequired'

/** The checks the server would fail on, as message keys by field. */
export function validateQueryDraft(draft: QueryDraft): Partial<Record<QueryField, QueryErrorCode>> {
  const errors: Partial<Record<QueryField, QueryErrorCode>> = {}
  if (!draft.sql.trim()) errors.sql = 'sqlRequired'
  if (draft.mode === 'targets' && draft.targetIds.length === 0) errors.targets = 'targetsRequired'
  if (draft.mode === 'tags' && draft.tags.length === 0) errors.targets = 'tagsRequired'
  return errors
}

const SERVER_FIELDS: Record<string, QueryField> = {
  sql: 'sql',
  target_ids: 'targets',
  target_tags: 'targets',
  row_limit: 'rowLimit',
  timeout_s: 'timeoutS',
}

/** The form field a server 400 names, or null when it names none of them. */
export function queryFormField(serverField: string | null): QueryField | null {
  return serverField ? (SERVER_FIELDS[serverField] ?? null) : null
}

/**
 * A field's current value as a string, so a server error is dropped once the
 * user has changed what it complained about.
 */
export function queryFieldValue(draft: QueryDraft, field: QueryField): string {
  switch (field) {
    case 'sql':
      return draft.sql
    case 'targets':
      return JSON.stringify([draft.mode, draft.targetIds, draft.tags])
    case 'rowLimit':
      return String(draft.rowLimit)
    case 'timeoutS':
      return String(draft.timeoutS)
  }
}

/** The form filled from an earlier query, to run it again. */
export function draftFromQuery(query: Pick<Query, 'sql' | 'targets' | 'row_limit' | 'timeout_s'>): QueryDraft {
  // Written by the server from the request; an older record may lack a list.
  const ids = query.targets.target_ids ?? []
  const tags = query.targets.target_tags ?? []
  return {
    sql: query.sql,
    mode: ids.length === 0 && tags.length > 0 ? 'tags' : 'targets',
    targetIds: [...ids],
    tags: [...tags],
    rowLimit: query.row_limit,
    timeoutS: query.timeout_s,
  }
}
