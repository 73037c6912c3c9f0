import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { configureHttp } from '@/api/http'
import { apiError, json, mockApi } from '@/test/mockApi'
import { token } from '@/test/fixtures'
import { useTokensStore } from './tokens'

beforeEach(() => {
  setActivePinia(createPinia())
  configureHttp({ onError: vi.fn() })
})

describe('tokens store', () => {
  it('creates an expiring token, returns its secret and lists it first', async () => {
    const api = mockApi({
      'GET /api/auth/tokens': json(200, [token({ id: 1, name: 'old' })]),
      'POST /api/auth/tokens': json(201, { api_token: token({ id: 2, name: 'backup' }), token: 'adb_s3cr3t' }),
    })
    const store = useTokensStore()
    await store.fetchAll()

    const created = await store.create('backup', 30)

    expect(api.callsTo('POST', '/api/auth/tokens')[0]!.body).toEqual({ name: 'backup', expires_in_days: 30 })
    expect(created.token).toBe('adb_s3cr3t')
    expect(store.items.map((t) => t.name)).toEqual(['backup', 'old'])
    // The secret is handed back once and never kept in the store.
    expect(JSON.stringify(store.$state)).not.toContain('adb_s3cr3t')
  })

  it('omits expires_in_days for a token that never expires', async () => {
    const api = mockApi({
      'POST /api/auth/tokens': json(201, { api_token: token({ id: 3, name: 'forever' }), token: 'x' }),
    })

    await useTokensStore().create('forever', null)

    expect(api.calls[0]!.body).toEqual({ name: 'forever' })
  })

  it('drops a revoked token, and keeps it if the revoke fails', async () => {
    const api = mockApi({
      'GET /api/auth/tokens': json(200, [token({ id: 1, name: 'a' }), token({ id: 2, name: 'b' })]),
      'DELETE /api/auth/tokens/1': json(204),
      'DELETE /api/auth/tokens/2': apiError(404, 'not_found', 'no such token'),
    })
    const store = useTokensStore()
    await store.fetchAll()

    await store.revoke(1)
    await expect(store.revoke(2)).rejects.toMatchObject({ status: 404 })

    expect(api.callsTo('DELETE', '/api/auth/tokens/1')).toHaveLength(1)
    expect(store.items.map((t) => t.id)).toEqual([2])
  })
})
