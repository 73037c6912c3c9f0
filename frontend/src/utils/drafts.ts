// Unsent SQL kept in the browser, so the console's text and a job being written
// survive a reload. One entry per form and per user (another user signing in on
// the same browser does not see it). Storage errors (full, private mode) only
// lose the draft.
import { emptyDraft, emptyScript, type JobDraft } from './jobForm'

export type DraftForm = 'console' | 'job'

const PREFIX = 'autodb.draft'

/** The storage key of one form's draft for one user; `null` when the user is not known yet. */
export function draftKey(form: DraftForm, username: string | null | undefined): string {
  return `${PREFIX}.${form}.${username ? encodeURIComponent(username) : '~'}`
}

export function loadDraft(storage: Storage, key: string): unknown {
  try {
    const raw = storage.getItem(key)
    return raw === null ? null : (JSON.parse(raw) as unknown)
  } catch {
    return null
  }
}

export function saveDraft(storage: Storage, key: string, value: unknown): void {
  try {
    storage.setItem(key, JSON.stringify(value))
  } catch {
    // Full or refused: the draft lives only in the page.
  }
}

export function clearDraft(storage: Storage, key: string): void {
  try {
    storage.removeItem(key)
  } catch {
    // Refused: nothing was kept either.
  }
}

/** The console keeps its SQL (targets may be gone by the next visit) and the id of the query shown under it. */
export interface StoredConsoleDraft {
  sql: string
  queryId: number | null
}

export function consoleDraftFromStored(raw: unknown): StoredConsoleDraft | null {
  if (typeof raw !== 'object' || raw === null) return null
  const r = raw as Partial<Record<keyof StoredConsoleDraft, unknown>>
  if (typeof r.sql !== 'string') return null
  return { sql: r.sql, queryId: typeof r.queryId === 'number' && Number.isInteger(r.queryId) ? r.queryId : null }
}

/** What is kept of a job being written: its settings and each script's SQL (targets are chosen again). */
export interface StoredJobDraft {
  name: string
  onError: JobDraft['onError']
  transactional: boolean
  scripts: string[]
}

export function toStoredJobDraft(draft: JobDraft): StoredJobDraft {
  return { name: draft.name, onError: draft.onError, transactional: draft.transactional, scripts: draft.scripts.map((s) => s.sql) }
}

/** Whether a draft has anything worth keeping. */
export function isBlankJobDraft(stored: StoredJobDraft): boolean {
  return !stored.name.trim() && stored.scripts.every((sql) => !sql.trim())
}

/** A job draft rebuilt from storage, or null when the entry is missing or not one of ours. */
export function jobDraftFromStored(raw: unknown): JobDraft | null {
  if (typeof raw !== 'object' || raw === null) return null
  const r = raw as Partial<Record<keyof StoredJobDraft, unknown>>
  if (!Array.isArray(r.scripts) || r.scripts.length === 0 || !r.scripts.every((s) => typeof s === 'string')) return null
  const base = emptyDraft()
  return {
    name: typeof r.name === 'string' ? r.name : base.name,
    onError: r.onError === 'continue' ? 'continue' : 'stop',
    transactional: r.transactional === true,
    scripts: r.scripts.map((sql) => ({ ...emptyScript(), sql })),
  }
}
