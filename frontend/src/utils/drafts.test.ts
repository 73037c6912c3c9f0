import { beforeEach, describe, expect, it } from 'vitest'
import { emptyDraft } from './jobForm'
import {
  clearDraft,
  consoleDraftFromStored,
  draftKey,
  isBlankJobDraft,
  jobDraftFromStored,
  loadDraft,
  saveDraft,
  toStoredJobDraft,
} from './drafts'

describe('draft storage keys', () => {
  it('are one per form and per user', () => {
    expect(draftKey('console', 'alice')).toBe('autodb.draft.console.alice')
    expect(draftKey('job', 'alice')).toBe('autodb.draft.job.alice')
    expect(draftKey('console', 'bob')).not.toBe(draftKey('console', 'alice'))
  })

  it('keep a user name with dots or slashes from reaching into another key', () => {
    expect(draftKey('console', 'a.b/c')).toBe('autodb.draft.console.a.b%2Fc')
  })

  it('fall back to one shared key when the user is not known', () => {
    expect(draftKey('console', null)).toBe('autodb.draft.console.~')
    expect(draftKey('job', '')).toBe('autodb.draft.job.~')
  })
})

describe('draft storage', () => {
  beforeEach(() => localStorage.clear())

  it('keeps a value until it is cleared', () => {
    const key = draftKey('console', 'alice')
    saveDraft(localStorage, key, { sql: 'SELECT 1', queryId: 7 })
    expect(consoleDraftFromStored(loadDraft(localStorage, key))).toEqual({ sql: 'SELECT 1', queryId: 7 })
    clearDraft(localStorage, key)
    expect(loadDraft(localStorage, key)).toBeNull()
  })

  it('reads a broken or foreign entry as no draft', () => {
    localStorage.setItem('k', '{not json')
    expect(loadDraft(localStorage, 'k')).toBeNull()
    expect(consoleDraftFromStored({ sql: 3 })).toBeNull()
    expect(consoleDraftFromStored({ sql: 'x', queryId: '7' })).toEqual({ sql: 'x', queryId: null })
    expect(jobDraftFromStored({ scripts: [] })).toBeNull()
    expect(jobDraftFromStored({ scripts: [1] })).toBeNull()
    expect(jobDraftFromStored('x')).toBeNull()
  })

  it('rebuilds a job draft with fresh script keys and no targets', () => {
    const draft = emptyDraft()
    draft.name = 'nightly'
    draft.onError = 'continue'
    draft.scripts = [{ ...draft.scripts[0]!, sql: 'SELECT 1', targetIds: [4] }, { ...draft.scripts[0]!, key: 99, sql: 'SELECT 2' }]
    const back = jobDraftFromStored(JSON.parse(JSON.stringify(toStoredJobDraft(draft))))!
    expect(back.name).toBe('nightly')
    expect(back.onError).toBe('continue')
    expect(back.transactional).toBe(false)
    expect(back.scripts.map((s) => s.sql)).toEqual(['SELECT 1', 'SELECT 2'])
    expect(back.scripts[0]!.targetIds).toEqual([])
    expect(new Set(back.scripts.map((s) => s.key)).size).toBe(2)
  })

  it('calls a job draft with no name and only blank scripts blank', () => {
    expect(isBlankJobDraft(toStoredJobDraft(emptyDraft()))).toBe(true)
    expect(isBlankJobDraft({ ...toStoredJobDraft(emptyDraft()), scripts: ['', 'SELECT 1'] })).toBe(false)
  })
})
