import { describe, expect, it } from 'vitest'
import { query } from '@/test/fixtures'
import {
  draftFromQuery,
  emptyQueryDraft,
  queryFieldValue,
  queryFormField,
  toQueryInput,
  validateQueryDraft,
} from './queryForm'

describe('query form', () => {
  it('sends the chosen targets or the tags, and the limits only when given', () => {
    const draft = { ...emptyQueryDraft(), sql: 'SELECT 1', targetIds: [3], tags: ['prod'] }
    expect(toQueryInput(draft)).toEqual({ sql: 'SELECT 1', target_ids: [3], row_limit: undefined, timeout_s: undefined })
    expect(toQueryInput({ ...draft, mode: 'tags', rowLimit: 10, timeoutS: 5 })).toEqual({
      sql: 'SELECT 1',
      target_tags: ['prod'],
      row_limit: 10,
      timeout_s: 5,
    })
  })

  it('asks for SQL and for targets or tags before sending', () => {
    expect(validateQueryDraft(emptyQueryDraft())).toEqual({ sql: 'sqlRequired', targets: 'targetsRequired' })
    expect(validateQueryDraft({ ...emptyQueryDraft(), sql: ' x ', mode: 'tags' })).toEqual({ targets: 'tagsRequired' })
    expect(validateQueryDraft({ ...emptyQueryDraft(), sql: 'SELECT 1', targetIds: [1] })).toEqual({})
  })

  it("puts the server's field under the right input", () => {
    expect(queryFormField('sql')).toBe('sql')
    expect(queryFormField('target_tags')).toBe('targets')
    expect(queryFormField('row_limit')).toBe('rowLimit')
    expect(queryFormField('timeout_s')).toBe('timeoutS')
    expect(queryFormField('wait_ms')).toBeNull()
    expect(queryFormField(null)).toBeNull()
  })

  it('notices when a field changed after the server complained about it', () => {
    const draft = { ...emptyQueryDraft(), rowLimit: 50_000 }
    expect(queryFieldValue(draft, 'rowLimit')).not.toBe(queryFieldValue({ ...draft, rowLimit: 5 }, 'rowLimit'))
    expect(queryFieldValue(draft, 'targets')).not.toBe(queryFieldValue({ ...draft, mode: 'tags' }, 'targets'))
  })

  it('rebuilds the form from an earlier query', () => {
    const earlier = query({ sql: 'SELECT 2', targets: { target_ids: [4, 5], target_tags: [] }, row_limit: 7, timeout_s: 9 })
    expect(draftFromQuery(earlier)).toEqual({ sql: 'SELECT 2', mode: 'targets', targetIds: [4, 5], tags: [], rowLimit: 7, timeoutS: 9 })
  })
})
