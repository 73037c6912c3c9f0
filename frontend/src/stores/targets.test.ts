import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { configureHttp } from '@/api/http'
import type { TargetInput } from '@/api/types'
import { apiError, deferred, json, mockApi } from '@/test/mockApi'
import { target } from '@/test/fixtures'
import { FLAVOURS_STORAGE_KEY, TARGETS_CACHE_TTL_MS, useTargetsStore } from './targets'

const input: TargetInput = {
  name: 'billing',
  engine: 'mysql',
  host: 'db2',
  port: 3306,
  database: 'billing',
  username: 'autodb',
  password: 's3cret',
  tags: ['prod'],
  options: {},
}

beforeEach(() => {
  setActivePinia(createPinia())
  configureHttp({ onError: vi.fn() })
})

describe('targets store', () => {
  it('fetches the list once and serves it from the cache afterwards', async () => {
    const api = mockApi({ 'GET /api/targets': json(200, [target()]) })
    const store = useTargetsStore()

    await store.fetchAll()
    await store.fetchAll()

    expect(api.callsTo('GET', '/api/targets')).toHaveLength(1)
    expect(store.items).toHaveLength(1)
  })

  it('fetches again once the cached list is older than the TTL', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const api = mockApi({ 'GET /api/targets': json(200, [target()]) })
      const store = useTargetsStore()

      await store.fetchAll()
      vi.advanceTimersByTime(TARGETS_CACHE_TTL_MS - 1000)
      await store.fetchAll()
      expect(api.callsTo('GET', '/api/targets')).toHaveLength(1)

      vi.advanceTimersByTime(2000)
      await store.fetchAll()
      expect(api.callsTo('GET', '/api/targets')).toHaveLength(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('shares one request between concurrent callers and refetches when forced', async () => {
    const answer = deferred<Response>()
    const api = mockApi({ 'GET /api/targets': [() => answer.promise, json(200, [])] })
    const store = useTargetsStore()

    const a = store.fetchAll()
    const b = store.fetchAll()
    answer.resolve(json(200, [target()]))
    await Promise.all([a, b])
    expect(api.callsTo('GET', '/api/targets')).toHaveLength(1)

    await store.fetchAll(true)
    expect(api.callsTo('GET', '/api/targets')).toHaveLength(2)
    expect(store.items).toEqual([])
  })

  it('sorts by name and collects the distinct tags', async () => {
    mockApi({
      'GET /api/targets': json(200, [
        target({ id: 1, name: 'zeta', tags: ['prod', 'eu'] }),
        target({ id: 2, name: 'alpha', tags: ['prod'] }),
      ]),
    })
    const store = useTargetsStore()

    await store.fetchAll()

    expect(store.items.map((t) => t.name)).toEqual(['alpha', 'zeta'])
    expect(store.allTags).toEqual(['eu', 'prod'])
  })

  it('posts a new target and adds it to the cached list', async () => {
    const api = mockApi({
      'GET /api/targets': json(200, [target({ id: 1, name: 'orders' })]),
      'POST /api/targets': json(201, target({ id: 2, name: 'billing', engine: 'mysql' })),
    })
    const store = useTargetsStore()
    await store.fetchAll()

    const created = await store.create(input)

    expect(api.callsTo('POST', '/api/targets')[0]!.body).toEqual(input)
    expect(created.id).toBe(2)
    expect(store.items.map((t) => t.name)).toEqual(['billing', 'orders'])
  })

  it('puts an edited target and replaces the cached one, dropping its old test result', async () => {
    const api = mockApi({
      'GET /api/targets': json(200, [target({ id: 5, name: 'old' })]),
      'POST /api/targets/5/test': json(200, { ok: true, server_version: '16.2', rtt_ms: 3, error: null }),
      'PUT /api/targets/5': json(200, target({ id: 5, name: 'renamed' })),
    })
    const store = useTargetsStore()
    await store.fetchAll()
    await store.test(5)

    await store.update(5, { ...input, name: 'renamed' })

    expect(api.callsTo('PUT', '/api/targets/5')).toHaveLength(1)
    expect(store.items.map((t) => t.name)).toEqual(['renamed'])
    expect(store.testResults[5]).toBeUndefined()
  })

  it('removes a deleted target, and keeps it when the delete fails', async () => {
    mockApi({
      'GET /api/targets': json(200, [target({ id: 1 }), target({ id: 2, name: 'other' })]),
      'DELETE /api/targets/1': json(204),
      'DELETE /api/targets/2': apiError(403, 'forbidden', 'admins only'),
    })
    const store = useTargetsStore()
    await store.fetchAll()

    await store.remove(1)
    await expect(store.remove(2)).rejects.toMatchObject({ status: 403 })

    expect(store.items.map((t) => t.id)).toEqual([2])
  })

  it("keeps a failing database's test result, which is an answer and not an error", async () => {
    const failing = { ok: false, server_version: null, rtt_ms: 12, error: { kind: 'auth', code: '28P01', message: 'password authentication failed' } }
    mockApi({ 'POST /api/targets/3/test': json(200, failing) })
    const store = useTargetsStore()

    const result = await store.test(3)

    expect(result.ok).toBe(false)
    expect(store.testResults[3]?.error?.code).toBe('28P01')
    expect(store.testing[3]).toBe(false)
  })

  it('forgets everything on reset', async () => {
    mockApi({ 'GET /api/targets': json(200, [target()]) })
    const store = useTargetsStore()
    await store.fetchAll()

    store.reset()

    expect(store.items).toEqual([])
    expect(store.loaded).toBe(false)
  })
})

describe('targets store: MariaDB named as such', () => {
  const maria = target({ id: 7, name: 'maria', engine: 'mysql', port: 3306 })
  const ok = (server_version: string) => json(200, { ok: true, rtt_ms: 1.5, server_version })

  beforeEach(() => localStorage.clear())

  it('remembers, across a reload, a target whose server said MariaDB', async () => {
    mockApi({ 'GET /api/targets': json(200, [maria]), 'POST /api/targets/7/test': ok('10.11.6-MariaDB-0+deb12u1') })
    const store = useTargetsStore()
    await store.fetchAll()
    expect(store.flavourOf(maria)).toBe('mysql')

    await store.test(7)

    expect(store.flavourOf(maria)).toBe('mariadb')
    setActivePinia(createPinia())
    expect(useTargetsStore().flavourOf(maria)).toBe('mariadb')
    expect(localStorage.getItem(FLAVOURS_STORAGE_KEY)).not.toContain('10.11')
  })

  it('forgets it when the target is edited or a later test says MySQL', async () => {
    mockApi({
      'GET /api/targets': json(200, [maria]),
      'POST /api/targets/7/test': [ok('10.11.6-MariaDB'), ok('8.0.36'), ok('10.11.6-MariaDB')],
      'PUT /api/targets/7': json(200, maria),
    })
    const store = useTargetsStore()
    await store.fetchAll()
    await store.test(7)
    await store.test(7)
    expect(store.flavourOf(maria)).toBe('mysql')

    await store.test(7)
    await store.update(7, input)
    expect(store.flavourOf(maria)).toBe('mysql')
    setActivePinia(createPinia())
    expect(useTargetsStore().flavourOf(maria)).toBe('mysql')
  })
})
