import { describe, expect, it } from 'vitest'
import { query, queryResult, user } from '@/test/fixtures'
import { applyEndEvent, canCancelQuery, canRunQueries, groupByTarget, targetStatus, targetsEnded } from './queries'
import type { Status } from '@/api/types'

const AT = '2026-11-28T00:00:05Z'

describe('query rules', () => {
  it('lets developers, operators and admins run queries, not viewers', () => {
    expect(canRunQueries(user({ role: 'developer' }))).toBe(true)
    expect(canRunQueries(user({ role: 'viewer' }))).toBe(false)
    expect(canRunQueries(null)).toBe(false)
  })

  it('lets the owner and admins cancel a running query, nobody an ended one', () => {
    const running = query({ created_by: 'bob' })
    expect(canCancelQuery(user({ username: 'bob', role: 'developer' }), running)).toBe(true)
    expect(canCancelQuery(user({ username: 'carol', role: 'operator' }), running)).toBe(false)
    expect(canCancelQuery(user({ username: 'root', role: 'admin' }), running)).toBe(true)
    expect(canCancelQuery(user({ username: 'bob' }), query({ created_by: 'bob', finished_at: AT }))).toBe(false)
  })

  it("sums up a target's statements: running first, then the worst outcome", () => {
    const r = (status: Status) => queryResult({ status })
    expect(targetStatus([r('success'), r('running'), r('waiting')])).toBe('running')
    expect(targetStatus([r('error'), r('cancelled')])).toBe('error')
    expect(targetStatus([r('success'), r('cancelled')])).toBe('cancelled')
    expect(targetStatus([r('success'), r('success')])).toBe('success')
  })

  it('groups results by target name, statements in order', () => {
    const groups = groupByTarget([
      queryResult({ target_id: 2, target_name: 'zeta', statement_index: 1, status: 'success' }),
      queryResult({ target_id: 1, target_name: 'alpha', statement_index: 0, status: 'running' }),
      queryResult({ target_id: 2, target_name: 'zeta', statement_index: 0, status: 'success' }),
    ])
    expect(groups.map((g) => [g.targetName, g.status, g.results.map((r) => r.statement_index)])).toEqual([
      ['alpha', 'running', [0]],
      ['zeta', 'success', [0, 1]],
    ])
    expect(targetsEnded(query({ results: groups.flatMap((g) => g.results) }))).toEqual({ ended: 1, total: 2 })
  })

  it('ends a query at the latest end among its results', () => {
    const q = query({
      results: [
        queryResult({ finished_at: '2026-11-28T00:00:05.5Z' }),
        queryResult({ finished_at: '2026-11-28T00:00:05Z' }),
      ],
    })
    expect(applyEndEvent(q, { id: q.id, status: 'success' })).toMatchObject({
      status: 'success',
      finished_at: '2026-11-28T00:00:05.5Z',
    })
    expect(applyEndEvent(q, { id: 7, status: 'success' })).toBe(q)
  })
})
