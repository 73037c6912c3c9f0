import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { configureHttp } from '@/api/http'
import { apiError, deferred, json, mockApi } from '@/test/mockApi'
import { target, user } from '@/test/fixtures'
import { useSessionStore } from './session'
import { useTargetsStore } from './targets'

const onError = vi.fn()
const onUnauthorized = vi.fn()

beforeEach(() => {
  setActivePinia(createPinia())
  onError.mockReset()
  onUnauthorized.mockReset()
  configureHttp({ onError, onUnauthorized })
})

describe('session store', () => {
  it('asks /auth/me once, even when several navigations wait for it at the same time', async () => {
    const answer = deferred<Response>()
    const api = mockApi({ 'GET /api/auth/me': () => answer.promise })
    const session = useSessionStore()

    const first = session.ensureLoaded()
    const second = session.ensureLoaded()
    answer.resolve(json(200, user({ username: 'carol', role: 'operator' })))
    await Promise.all([first, second])
    await session.ensureLoaded()

    expect(api.callsTo('GET', '/api/auth/me')).toHaveLength(1)
    expect(session.user?.username).toBe('carol')
  })

  it('treats a 401 from /auth/me as signed out, without a toast or a redirect', async () => {
    mockApi({ 'GET /api/auth/me': apiError(401, 'unauthenticated', 'no session') })
    const session = useSessionStore()

    await session.ensureLoaded()

    expect(session.user).toBeNull()
    expect(session.loaded).toBe(true)
    expect(onError).not.toHaveBeenCalled()
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('asks again after the store was unavailable, and says so', async () => {
    const api = mockApi({
      'GET /api/auth/me': [apiError(503, 'store_unavailable', 'metadata store down'), json(200, user())],
    })
    const session = useSessionStore()

    await session.ensureLoaded()
    expect(session.loaded).toBe(false)
    expect(onError).toHaveBeenCalledOnce()

    await session.ensureLoaded()
    expect(api.callsTo('GET', '/api/auth/me')).toHaveLength(2)
    expect(session.user?.username).toBe('alice')
  })

  it('signs in with the credentials and keeps the returned user', async () => {
    const api = mockApi({
      'POST /api/auth/login': json(200, { token: 'secret', expires_at: '2026-11-28T00:00:00Z', user: user() }),
    })
    const session = useSessionStore()

    await session.login('alice', 'pw')

    expect(api.calls[0]!.body).toEqual({ username: 'alice', password: 'pw' })
    expect(session.user?.username).toBe('alice')
    expect(session.isAdmin).toBe(true)
  })

  it('rejects a wrong password quietly so the form can show the message', async () => {
    mockApi({ 'POST /api/auth/login': apiError(401, 'invalid_credentials', 'wrong username or password') })
    const session = useSessionStore()

    await expect(session.login('alice', 'nope')).rejects.toMatchObject({ message: 'wrong username or password' })
    expect(session.user).toBeNull()
    expect(onError).not.toHaveBeenCalled()
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it.each([
    ['admin', true, true],
    ['operator', false, true],
    ['developer', false, false],
    ['viewer', false, false],
  ] as const)('gives a %s admin=%s and test=%s', async (role, admin, canTest) => {
    mockApi({ 'GET /api/auth/me': json(200, user({ role })) })
    const session = useSessionStore()
    await session.ensureLoaded()

    expect(session.isAdmin).toBe(admin)
    expect(session.canTestTargets).toBe(canTest)
    expect(session.hasRole('admin', 'operator')).toBe(canTest)
  })

  it('forgets the user and cached targets on logout, even if the server call fails', async () => {
    mockApi({
      'GET /api/auth/me': json(200, user()),
      'GET /api/targets': json(200, [target()]),
      'POST /api/auth/logout': apiError(503, 'store_unavailable', 'down'),
    })
    const session = useSessionStore()
    const targets = useTargetsStore()
    await session.ensureLoaded()
    await targets.fetchAll()

    await session.logout()

    expect(onError).toHaveBeenCalledOnce()
    expect(session.user).toBeNull()
    expect(targets.items).toEqual([])
    expect(targets.loaded).toBe(false)
  })
})
