import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { configureHttp } from '@/api/http'
import { apiError, json, mockApi } from '@/test/mockApi'
import { user } from '@/test/fixtures'
import { useUsersStore } from './users'

beforeEach(() => {
  setActivePinia(createPinia())
  configureHttp({ onError: vi.fn() })
})

describe('users store', () => {
  it('lists users sorted by name', async () => {
    mockApi({ 'GET /api/users': json(200, [user({ id: 2, username: 'zoe' }), user({ id: 1, username: 'adam' })]) })
    const store = useUsersStore()

    await store.fetchAll()

    expect(store.items.map((u) => u.username)).toEqual(['adam', 'zoe'])
  })

  it('creates a user and lists it', async () => {
    const api = mockApi({
      'GET /api/users': json(200, [user({ id: 1, username: 'adam' })]),
      'POST /api/users': json(201, user({ id: 2, username: 'bob', role: 'viewer' })),
    })
    const store = useUsersStore()
    await store.fetchAll()

    await store.create({ username: 'bob', password: 'pw', role: 'viewer' })

    expect(api.callsTo('POST', '/api/users')[0]!.body).toEqual({ username: 'bob', password: 'pw', role: 'viewer' })
    expect(store.items.map((u) => u.username)).toEqual(['adam', 'bob'])
  })

  it('sends only the changed field: role, disabled or password', async () => {
    const api = mockApi({
      'GET /api/users': json(200, [user({ id: 4, username: 'dan', role: 'viewer' })]),
      'PUT /api/users/4': [
        json(200, user({ id: 4, username: 'dan', role: 'operator' })),
        json(200, user({ id: 4, username: 'dan', role: 'operator', disabled: true })),
        json(200, user({ id: 4, username: 'dan', role: 'operator', disabled: true })),
      ],
    })
    const store = useUsersStore()
    await store.fetchAll()

    await store.setRole(4, 'operator')
    await store.setDisabled(4, true)
    await store.resetPassword(4, 'n3w')

    expect(api.callsTo('PUT', '/api/users/4').map((c) => c.body)).toEqual([
      { role: 'operator' },
      { disabled: true },
      { password: 'n3w' },
    ])
    expect(store.items[0]).toMatchObject({ role: 'operator', disabled: true })
  })

  it('leaves the list unchanged when an update is refused', async () => {
    mockApi({
      'GET /api/users': json(200, [user({ id: 4, role: 'viewer' })]),
      'PUT /api/users/4': apiError(400, 'invalid_input', 'cannot demote the last admin', 'role'),
    })
    const store = useUsersStore()
    await store.fetchAll()

    await expect(store.setRole(4, 'admin')).rejects.toMatchObject({ field: 'role' })
    expect(store.items[0]!.role).toBe('viewer')
  })
})
