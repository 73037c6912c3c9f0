import { describe, expect, it } from 'vitest'
import { target } from '@/test/fixtures'
import {
  chosenTargets,
  emptyDraft,
  emptyScript,
  enginesOf,
  fieldValue,
  formField,
  move,
  toJobInput,
  validateDraft,
} from './jobForm'

describe('new job form', () => {
  it('sends either target ids or tags for each script, never both', () => {
    const byId = { ...emptyScript(), sql: 'SELECT 1;', targetIds: [3, 4], tags: ['left-over'] }
    const byTag = { ...emptyScript(), sql: 'SELECT 2;', mode: 'tags' as const, targetIds: [9], tags: ['prod'] }
    const draft = { ...emptyDraft(), name: ' nightly ', transactional: true, scripts: [byId, byTag] }

    expect(toJobInput(draft)).toEqual({
      name: 'nightly',
      on_error: 'stop',
      transactional: true,
      scripts: [
        { sql: 'SELECT 1;', target_ids: [3, 4] },
        { sql: 'SELECT 2;', target_tags: ['prod'] },
      ],
    })
  })

  it('names every missing field by its position, like the server does', () => {
    const ok = { ...emptyScript(), sql: 'SELECT 1;', targetIds: [1] }
    const empty = { ...emptyScript(), sql: '  ' }
    const noTags = { ...emptyScript(), sql: 'SELECT 1;', mode: 'tags' as const }

    expect(validateDraft({ ...emptyDraft(), name: '', scripts: [ok, empty, noTags] })).toEqual({
      name: 'nameRequired',
      'scripts[1].sql': 'sqlRequired',
      'scripts[1].targets': 'targetsRequired',
      'scripts[2].targets': 'tagsRequired',
    })
    expect(validateDraft({ ...emptyDraft(), name: 'x', scripts: [] })).toEqual({ scripts: 'scriptsRequired' })
    expect(validateDraft({ ...emptyDraft(), name: 'x', scripts: [ok] })).toEqual({})
  })

  it("puts a server error about a script's targets on that script's target picker", () => {
    expect(formField('scripts[1].target_ids')).toBe('scripts[1].targets')
    expect(formField('scripts[0].target_tags')).toBe('scripts[0].targets')
    expect(formField('scripts[12].sql')).toBe('scripts[12].sql')
    expect(formField('name')).toBe('name')
  })

  it('notices when the field a server error names has changed since', () => {
    const draft = { ...emptyDraft(), name: 'x', scripts: [{ ...emptyScript(), sql: 'SELEC 1;', targetIds: [1] }] }
    const sqlBefore = fieldValue(draft, 'scripts[0].sql')
    const targetsBefore = fieldValue(draft, 'scripts[0].targets')

    draft.scripts[0]!.targetIds = [1, 2]

    expect(fieldValue(draft, 'scripts[0].sql')).toBe(sqlBefore)
    expect(fieldValue(draft, 'scripts[0].targets')).not.toBe(targetsBefore)
    expect(fieldValue(draft, 'scripts[3].sql')).toBeUndefined()
    expect(fieldValue(draft, 'name')).toBe('x')
  })

  it('resolves the targets and engines a script will run on', () => {
    const all = [
      target({ id: 1, engine: 'postgres', tags: ['prod', 'eu'] }),
      target({ id: 2, engine: 'sqlite', tags: ['prod'] }),
      target({ id: 3, engine: 'postgres', tags: ['dev'] }),
    ]

    const byId = { ...emptyScript(), targetIds: [3, 2] }
    const byTags = { ...emptyScript(), mode: 'tags' as const, tags: ['prod', 'eu'] }
    const noTags = { ...emptyScript(), mode: 'tags' as const }

    expect(chosenTargets(byId, all).map((t) => t.id)).toEqual([2, 3])
    expect(enginesOf(chosenTargets(byId, all))).toEqual(['postgres', 'sqlite'])
    expect(chosenTargets(byTags, all).map((t) => t.id)).toEqual([1])
    expect(chosenTargets(noTags, all)).toEqual([])
  })

  it('moves a script up or down, staying in bounds, without changing the original list', () => {
    const list = ['a', 'b', 'c']

    expect(move(list, 2, -1)).toEqual(['a', 'c', 'b'])
    expect(move(list, 0, 1)).toEqual(['b', 'a', 'c'])
    expect(move(list, 0, -1)).toEqual(['a', 'b', 'c'])
    expect(list).toEqual(['a', 'b', 'c'])
  })

  it('gives each new script its own key', () => {
    expect(emptyScript().key).not.toBe(emptyScript().key)
  })
})
