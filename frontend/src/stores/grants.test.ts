import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { configureHttp, isApiError } from '@/api/http'
import type { Grant, GrantPolicy } from '@/api/types'
import { apiError, json, mockApi } from '@/test/mockApi'
import { useGrantsStore } from './grants'

function policy(over: Partial<GrantPolicy> = {}): GrantPolicy {
  return {
    id: 1,
    name: 'support',
    target_id: 7,
    account: 'spt',
    mode: 'swap',
    max_duration_s: 14400,
    roles: ['operator'],
    kill_sessions: true,
    created_at: '2026-12-02T06:00:00Z',
    updated_at: '2026-12-02T06:00:00Z',
    ...over,
  }
}

function grant(over: Partial<Grant> = {}): Grant {
  return {
    id: 10,
    status: 'active',
    policy_id: 1,
    target_id: 7,
    account: 'spt',
    login: 'spt',
    mode: 'swap',
    requested_by: 'alice',
    reason: 'ticket 42',
    created_at: '2026-12-02T06:00:00Z',
    expires_at: '2026-12-02T07:00:00Z',
    ended_at: null,
    restore_attempts: 0,
    last_error: null,
    ...over,
  }
}

beforeEach(() => {
  setActivePinia(createPinia())
  configureHttp({ onError: vi.fn() })
})

describe('grants store', () => {
  it('hands the password of a new grant back once and never keeps it', async () => {
    const api = mockApi({
      'POST /api/grants': json(201, {
        id: 10,
        status: 'active',
        login: 'spt',
        password: 'Tmp-s3cr3t-pw',
        expires_at: '2026-12-02T07:00:00Z',
      }),
      'GET /api/grants/10': json(200, grant()),
    })
    const store = useGrantsStore()

    const created = await store.request({ policy_id: 1, duration_s: 3600, reason: 'ticket 42' })

    expect(api.callsTo('POST', '/api/grants')[0]!.body).toEqual({ policy_id: 1, duration_s: 3600, reason: 'ticket 42' })
    expect(created.password).toBe('Tmp-s3cr3t-pw')
    expect(store.mine.map((g) => g.id)).toEqual([10])
    expect(JSON.stringify(store.$state)).not.toContain('Tmp-s3cr3t-pw')
  })

  it('asks for the own grants by user name, newest first', async () => {
    const api = mockApi({ 'GET /api/grants': json(200, [grant({ id: 3 }), grant({ id: 9 })]) })
    const store = useGrantsStore()

    await store.fetchMine('alice')

    expect(api.calls[0]!.query.get('user')).toBe('alice')
    expect(store.mine.map((g) => g.id)).toEqual([9, 3])
  })

  it('sends the admin filters and leaves out the empty ones', async () => {
    const api = mockApi({ 'GET /api/grants': json(200, []) })

    await useGrantsStore().fetchAll({ status: 'restore_failed', target: 7 })

    const q = api.calls[0]!.query
    expect(q.get('status')).toBe('restore_failed')
    expect(q.get('target')).toBe('7')
    expect(q.has('user')).toBe(false)
  })

  it('replaces an ended grant in both lists', async () => {
    mockApi({
      'GET /api/grants': json(200, [grant()]),
      'POST /api/grants/10/end': json(200, grant({ status: 'ended', ended_at: '2026-12-02T06:30:00Z' })),
    })
    const store = useGrantsStore()
    await store.fetchMine('alice')
    await store.fetchAll()

    await store.end(10)

    expect(store.mine[0]!.status).toBe('ended')
    expect(store.all[0]!.status).toBe('ended')
  })

  it('keeps the grant as it was when an extension is refused', async () => {
    mockApi({
      'GET /api/grants': json(200, [grant()]),
      'POST /api/grants/10/extend': apiError(400, 'invalid_input', 'beyond the maximum', 'duration_s'),
    })
    const store = useGrantsStore()
    await store.fetchMine('alice')

    const err = await store.extend(10, 99_999).catch((e: unknown) => e)

    expect(isApiError(err, 400) && err.field).toBe('duration_s')
    expect(store.mine[0]!.expires_at).toBe('2026-12-02T07:00:00Z')
  })

  it('keeps policies sorted and forgets a rights check when the policy changes', async () => {
    mockApi({
      'GET /api/grant-policies': json(200, [policy({ id: 2, name: 'zeta' })]),
      'POST /api/grant-policies': json(201, policy({ id: 1, name: 'alpha' })),
      'POST /api/grant-policies/1/check': json(200, [{ right: 'read the verifier', ok: true }]),
      'PUT /api/grant-policies/1': json(200, policy({ id: 1, name: 'alpha', max_duration_s: 600 })),
      'DELETE /api/grant-policies/2': json(204),
    })
    const store = useGrantsStore()
    await store.fetchPolicies()
    await store.createPolicy({ name: 'alpha', target_id: 7, account: 'spt', max_duration_s: 3600, roles: [] })
    expect(store.policies.map((p) => p.name)).toEqual(['alpha', 'zeta'])

    await store.check(1)
    expect(store.checks[1]).toHaveLength(1)
    await store.updatePolicy(1, { name: 'alpha', target_id: 7, account: 'spt', max_duration_s: 600, roles: [] })
    expect(store.checks[1]).toBeUndefined()
    expect(store.policyById(1)!.max_duration_s).toBe(600)

    await store.removePolicy(2)
    expect(store.policies.map((p) => p.id)).toEqual([1])
  })
})
