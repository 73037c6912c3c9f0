import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { configureHttp } from '@/api/http'
import { deferred, json, mockApi } from '@/test/mockApi'
import { auditEntry } from '@/test/fixtures'
import { toQuery, useAuditStore } from './audit'

beforeEach(() => {
  setActivePinia(createPinia())
  configureHttp({ onError: vi.fn() })
})

function page(ids: number[], total = ids.length, pageNo = 1) {
  return json(200, { items: ids.map((id) => auditEntry({ id })), total, page: pageNo, per_page: 50 })
}

describe('audit store', () => {
  it('builds the query from the filters, trimming text and leaving empty ones out', () => {
    const since = Date.UTC(2026, 10, 1, 0, 0, 0)
    const q = toQuery({ actor: ' alice ', action: '', objectType: 'target', since, until: null }, 2, 20)

    expect(q).toEqual({
      actor: 'alice',
      action: undefined,
      object_type: 'target',
      since: '2026-11-01T00:00:00Z',
      until: undefined,
      page: 2,
      per_page: 20,
    })
  })

  it('sends the filters and page to the API and keeps the answer', async () => {
    const api = mockApi({ 'GET /api/audit': page([3, 2], 120, 2) })
    const store = useAuditStore()
    store.filters.actor = 'alice'

    await store.load(2)

    const query = api.calls[0]!.query
    expect(query.get('actor')).toBe('alice')
    expect(query.get('page')).toBe('2')
    expect(query.get('per_page')).toBe('50')
    expect(query.has('action')).toBe(false)
    expect(store.items.map((e) => e.id)).toEqual([3, 2])
    expect(store.total).toBe(120)
    expect(store.page).toBe(2)
  })

  it('shows the latest search when an older answer arrives last', async () => {
    const slow = deferred<Response>()
    mockApi({ 'GET /api/audit': [() => slow.promise, page([9])] })
    const store = useAuditStore()

    const older = store.load(1)
    await store.load(1)
    slow.resolve(page([1]))
    await older

    expect(store.items.map((e) => e.id)).toEqual([9])
    expect(store.loading).toBe(false)
  })
})
