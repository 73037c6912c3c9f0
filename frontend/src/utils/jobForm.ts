// The new-job form's model and its rules, kept out of the components so they
// are unit-tested: what is sent, what is checked before sending, which engines
// a script will run on, and where a server 400 `field` belongs.
import type { Engine, JobInput, OnError, ScriptInput, Target } from '@/api/types'

export type TargetMode = 'targets' | 'tags'

export interface ScriptDraft {
  /** Stable identity for list rendering while scripts move. */
  key: number
  sql: string
  mode: TargetMode
  targetIds: number[]
  tags: string[]
}

export interface JobDraft {
  name: string
  onError: OnError
  transactional: boolean
  scripts: ScriptDraft[]
}

/** Validation messages by field: `name`, `scripts`, `scripts[i].sql`, `scripts[i].targets`. */
export type FieldErrors = Record<string, string>

let nextKey = 1

export function emptyScript(): ScriptDraft {
  return { key: nextKey++, sql: '', mode: 'targets', targetIds: [], tags: [] }
}

export function emptyDraft(): JobDraft {
  return { name: '', onError: 'stop', transactional: false, scripts: [emptyScript()] }
}

export function scriptField(index: number, field: 'sql' | 'targets'): string {
  return `scripts[${index}].${field}`
}

export function toScriptInput(script: ScriptDraft): ScriptInput {
  return script.mode === 'targets'
    ? { sql: script.sql, target_ids: [...script.targetIds] }
    : { sql: script.sql, target_tags: [...script.tags] }
}

export function toJobInput(draft: JobDraft): JobInput {
  return {
    name: draft.name.trim(),
    on_error: draft.onError,
    transactional: draft.transactional,
    scripts: draft.scripts.map(toScriptInput),
  }
}

export type ErrorCode = 'nameRequired' | 'scriptsRequired' | 'sqlRequired' | 'targetsRequired' | 'tagsRequired'

/** The checks the server would fail on, as message keys by field. */
export function validateDraft(draft: JobDraft): Record<string, ErrorCode> {
  const errors: Record<string, ErrorCode> = {}
  if (!draft.name.trim()) errors.name = 'nameRequired'
  if (draft.scripts.length === 0) errors.scripts = 'scriptsRequired'
  draft.scripts.forEach((s, i) => {
    if (!s.sql.trim()) errors[scriptField(i, 'sql')] = 'sqlRequired'
    if (s.mode === 'targets' && s.targetIds.length === 0) errors[scriptField(i, 'targets')] = 'targetsRequired'
    if (s.mode === 'tags' && s.tags.length === 0) errors[scriptField(i, 'targets')] = 'tagsRequired'
  })
  return errors
}

/** Maps a server field (`scripts[1].target_ids`) onto the form's (`scripts[1].targets`). */
export function formField(serverField: string): string {
  const m = /^scripts\[(\d+)\]\.(target_ids|target_tags|sql)$/.exec(serverField)
  if (!m) return serverField
  return scriptField(Number(m[1]), m[2] === 'sql' ? 'sql' : 'targets')
}

/** The targets a script will run on, as far as the browser can tell (tags: all must match). */
export function chosenTargets(script: ScriptDraft, targets: readonly Target[]): Target[] {
  if (script.mode === 'targets') return targets.filter((t) => script.targetIds.includes(t.id))
  if (script.tags.length === 0) return []
  return targets.filter((t) => script.tags.every((tag) => t.tags.includes(tag)))
}

/** The distinct engines among a script's targets, in a stable order. */
export function enginesOf(targets: readonly Target[]): Engine[] {
  return [...new Set(targets.map((t) => t.engine))].sort()
}

/** A copy of `list` with item `index` moved by `delta` places (kept in bounds). */
export function move<T>(list: readonly T[], index: number, delta: number): T[] {
  const to = Math.max(0, Math.min(list.length - 1, index + delta))
  const out = list.slice()
  if (index < 0 || index >= list.length || to === index) return out
  const [item] = out.splice(index, 1)
  out.splice(to, 0, item!)
  return out
}

/**
 * The current value of a form field as a string, so a server error can be
 * dropped once the user has changed what it complained about.
 */
export function fieldValue(draft: JobDraft, field: string): string | undefined {
  if (field === 'name') return draft.name
  const m = /^scripts\[(\d+)\]\.(sql|targets)$/.exec(field)
  const script = m ? draft.scripts[Number(m[1])] : undefined
  if (!m || !script) return undefined
  return m[2] === 'sql' ? script.sql : JSON.stringify([script.mode, script.targetIds, script.tags])
}
