import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter, type RouteRecordRaw, type Router } from 'vue-router'
import { configureHttp } from '@/api/http'
import type { Role } from '@/api/types'
import { apiError, json, mockApi } from '@/test/mockApi'
import { user } from '@/test/fixtures'
import { installGuards } from './guard'
import { RouteName } from './names'
import { routes } from './routes'

// The real route table (names, meta, nesting) with stub components, so the
// test checks the app's actual access rules without rendering pages.
const Stub = { render: () => null }
function stubbed(records: RouteRecordRaw[]): RouteRecordRaw[] {
  return records.map((r) => ({ ...r, component: Stub, children: r.children ? stubbed(r.children) : undefined }) as RouteRecordRaw)
}

let onForbidden: ReturnType<typeof vi.fn<() => void>>

function makeRouter(): Router {
  const router = createRouter({ history: createMemoryHistory(), routes: stubbed(routes) })
  installGuards(router, { onForbidden })
  return router
}

function signedInAs(role: Role) {
  return mockApi({ 'GET /api/auth/me': json(200, user({ role })) })
}

beforeEach(() => {
  setActivePinia(createPinia())
  configureHttp({})
  onForbidden = vi.fn<() => void>()
})

describe('navigation guard', () => {
  it('sends a visitor without a session to the login page, remembering the deep link', async () => {
    mockApi({ 'GET /api/auth/me': apiError(401, 'unauthenticated', 'no session') })
    const router = makeRouter()

    await router.push('/targets?q=orders')

    expect(router.currentRoute.value.name).toBe(RouteName.Login)
    expect(router.currentRoute.value.query.redirect).toBe('/targets?q=orders')
  })

  it('lets any signed-in role open the targets page, asking /auth/me only once', async () => {
    const api = signedInAs('viewer')
    const router = makeRouter()

    await router.push('/targets')
    await router.push('/account')

    expect(router.currentRoute.value.name).toBe(RouteName.Account)
    expect(api.callsTo('GET', '/api/auth/me')).toHaveLength(1)
  })

  it.each(['/users', '/audit'])('keeps an operator out of the admin page %s', async (path) => {
    signedInAs('operator')
    const router = makeRouter()

    await router.push(path)

    expect(router.currentRoute.value.name).toBe(RouteName.Home)
    expect(onForbidden).toHaveBeenCalledOnce()
  })

  it('lets an admin open the users and audit pages', async () => {
    signedInAs('admin')
    const router = makeRouter()

    await router.push('/audit')
    expect(router.currentRoute.value.name).toBe(RouteName.Audit)
    await router.push('/users')
    expect(router.currentRoute.value.name).toBe(RouteName.Users)
    expect(onForbidden).not.toHaveBeenCalled()
  })

  it('lets a viewer read jobs but keeps them out of the new-job page', async () => {
    signedInAs('viewer')
    const router = makeRouter()

    await router.push('/jobs/42')
    expect(router.currentRoute.value.name).toBe(RouteName.JobDetail)
    await router.push('/jobs/new')

    expect(router.currentRoute.value.name).toBe(RouteName.Home)
    expect(onForbidden).toHaveBeenCalledOnce()
  })

  it('keeps a viewer out of the query console, and lets a developer in', async () => {
    signedInAs('viewer')
    const router = makeRouter()
    await router.push('/queries')
    expect(router.currentRoute.value.name).toBe(RouteName.Home)
    expect(onForbidden).toHaveBeenCalledOnce()

    setActivePinia(createPinia())
    signedInAs('developer')
    const devRouter = makeRouter()
    await devRouter.push('/queries?id=3')
    expect(devRouter.currentRoute.value.name).toBe(RouteName.Queries)
  })

  it('lets a developer open the new-job page', async () => {
    signedInAs('developer')
    const router = makeRouter()

    await router.push('/jobs/new')

    expect(router.currentRoute.value.name).toBe(RouteName.JobNew)
  })

  it('sends a signed-in user away from the login page to the requested page', async () => {
    signedInAs('admin')
    const router = makeRouter()

    await router.push('/login?redirect=/audit')

    expect(router.currentRoute.value.name).toBe(RouteName.Audit)
  })

  it('ignores a redirect to another site', async () => {
    signedInAs('admin')
    const router = makeRouter()

    await router.push('/login?redirect=//evil.example/phish')

    expect(router.currentRoute.value.name).toBe(RouteName.Home)
  })

  it('shows the not-found page for an unknown path, behind the login', async () => {
    signedInAs('viewer')
    const router = makeRouter()

    await router.push('/no/such/page')

    expect(router.currentRoute.value.name).toBe(RouteName.NotFound)
  })
})
