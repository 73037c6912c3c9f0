import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { apiError, json, mockApi } from '@/test/mockApi'
import { ApiError, BAD_RESPONSE, NETWORK_ERROR, api, buildUrl, call, configureHttp, type RequestOptions } from './http'
import type { TargetInput } from './types'
import { setLocale } from '@/locales'

const onError = vi.fn()
const onUnauthorized = vi.fn()

beforeEach(() => {
  configureHttp({ onError, onUnauthorized })
})
afterEach(() => {
  onError.mockReset()
  onUnauthorized.mockReset()
})

const getTargets = (opts?: RequestOptions) => call(opts, (init) => api.GET('/api/targets', init))
const postTarget = (body: TargetInput, opts?: RequestOptions) =>
  call(opts, (init) => api.POST('/api/targets', { ...init, body }))
const getUsers = (opts?: RequestOptions) => call(opts, (init) => api.GET('/api/users', init))
const login = (opts?: RequestOptions) =>
  call(opts, (init) => api.POST('/api/auth/login', { ...init, body: { username: 'a', password: 'b' } }))
const sqlite: TargetInput = { name: 't', engine: 'sqlite', host: '', port: 0, database: '/x.db', username: '' }

describe('http transport', () => {
  it('sends requests under /api with the session cookie and parses JSON', async () => {
    const mock = mockApi({ 'GET /api/targets': json(200, [{ id: 7 }]) })

    const result = await getTargets()

    expect(result).toEqual([{ id: 7 }])
    expect(mock.calls[0]!.credentials).toBe('same-origin')
    expect(mock.calls[0]!.headers.get('Accept')).toBe('application/json')
  })

  it('sends a JSON body with its content type', async () => {
    const mock = mockApi({ 'POST /api/users': json(201, { id: 2 }) })

    await call(undefined, (init) =>
      api.POST('/api/users', { ...init, body: { username: 'bob', password: 'correct horse', role: 'viewer' } }),
    )

    expect(mock.calls[0]!.body).toEqual({ username: 'bob', password: 'correct horse', role: 'viewer' })
    expect(mock.calls[0]!.headers.get('Content-Type')).toBe('application/json')
  })

  it('fills the path parameters and leaves empty query values out of the URL', async () => {
    const mock = mockApi({ 'GET /api/audit': json(200, { items: [], total: 0, page: 2, per_page: 20 }) })

    await call(undefined, (init) =>
      api.GET('/api/audit', { ...init, params: { query: { actor: 'alice', action: '', since: undefined, page: 2, until: null } } }),
    )

    expect(mock.calls[0]!.query.toString()).toBe('actor=alice&page=2')
    expect(buildUrl('/jobs/7/events', { a: '', b: 1 })).toBe('/api/jobs/7/events?b=1')
  })

  it('resolves a 204 to undefined', async () => {
    const mock = mockApi({ 'DELETE /api/targets/3': json(204) })

    await expect(
      call(undefined, (init) => api.DELETE('/api/targets/{id}', { ...init, params: { path: { id: 3 } } })),
    ).resolves.toBeUndefined()
    expect(mock.calls[0]!.path).toBe('/api/targets/3')
  })

  it('passes the caller\'s abort signal on', async () => {
    const mock = mockApi({ 'GET /api/targets': json(200, []) })
    const abort = new AbortController()

    await getTargets({ signal: abort.signal })
    abort.abort()

    expect(mock.calls[0]!.signal?.aborted).toBe(true)
  })

  it("rejects with the server's error code, message and field, and toasts the message", async () => {
    mockApi({ 'POST /api/targets': apiError(400, 'invalid_input', 'port out of range', 'port') })

    const err = await postTarget(sqlite).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 400, code: 'invalid_input', message: 'port out of range', field: 'port' })
    expect(onError).toHaveBeenCalledOnce()
    expect(onError.mock.calls[0]![0]).toBe(err)
  })

  it("says a catalogued refusal in the user's language, and the English message otherwise", async () => {
    const body = { error: 'invalid_input', message: 'must be 1 to 200 characters', field: 'name', reason: 'chars', params: { min: 1, max: 200 } }
    mockApi({ 'POST /api/targets': [json(400, body), json(400, body), json(400, { ...body, reason: 'from_a_newer_server' })] })
    await setLocale('zh-CN')
    const zh = await postTarget(sqlite).catch((e: unknown) => e)
    await setLocale('en')
    const en = await postTarget(sqlite).catch((e: unknown) => e)
    const unknown = await postTarget(sqlite).catch((e: unknown) => e)

    expect(zh).toMatchObject({ message: '长度须为 1 到 200 个字符', reason: 'chars', params: { min: 1, max: 200 }, field: 'name' })
    expect(en).toMatchObject({ message: 'must be 1 to 200 characters' })
    expect(unknown).toMatchObject({ message: 'must be 1 to 200 characters', reason: 'from_a_newer_server' })
  })

  it('does not toast when the caller passes silent: true', async () => {
    mockApi({ 'GET /api/users': apiError(403, 'forbidden', 'admins only') })

    await expect(getUsers({ silent: true })).rejects.toMatchObject({ status: 403 })
    expect(onError).not.toHaveBeenCalled()
  })

  it('silences only the listed statuses when silent is a list', async () => {
    mockApi({
      'POST /api/targets': apiError(409, 'conflict', 'taken'),
      'GET /api/users': apiError(500, 'internal', 'id 42'),
    })

    await expect(postTarget(sqlite, { silent: [409] })).rejects.toMatchObject({ code: 'conflict' })
    expect(onError).not.toHaveBeenCalled()
    await expect(getUsers({ silent: [409] })).rejects.toMatchObject({ code: 'internal' })
    expect(onError).toHaveBeenCalledOnce()
  })

  it('sends the user to the login page on a 401', async () => {
    mockApi({ 'GET /api/targets': apiError(401, 'unauthenticated', 'session expired') })

    await expect(getTargets()).rejects.toMatchObject({ status: 401 })
    expect(onUnauthorized).toHaveBeenCalledOnce()
  })

  it('does not redirect on a 401 when the caller handles it (login form)', async () => {
    mockApi({ 'POST /api/auth/login': apiError(401, 'invalid_credentials', 'wrong username or password') })

    await expect(login({ silent: true, skipAuthRedirect: true })).rejects.toMatchObject({ code: 'invalid_credentials' })
    expect(onUnauthorized).not.toHaveBeenCalled()
    expect(onError).not.toHaveBeenCalled()
  })

  it('reads Retry-After on a 429', async () => {
    mockApi({
      'POST /api/auth/login': json(429, { error: 'too_many_attempts', message: 'slow down' }, { 'retry-after': '30' }),
    })

    await expect(login({ silent: true })).rejects.toMatchObject({
      status: 429,
      retryAfter: 30,
      message: 'slow down',
    })
  })

  it('keeps the status of an error page that is not JSON (proxy 502)', async () => {
    mockApi({
      'GET /api/health': () => new Response('<html>Bad Gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
    })

    const err = await call(undefined, (init) => api.GET('/api/health', init)).catch((e: unknown) => e)

    expect(err).toMatchObject({ status: 502, code: BAD_RESPONSE })
    expect(onError).toHaveBeenCalledOnce()
  })

  it('turns a network failure into a network_error and toasts it', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')))

    await expect(getTargets()).rejects.toMatchObject({ status: 0, code: NETWORK_ERROR })
    expect(onError).toHaveBeenCalledOnce()
  })

  it('rethrows an abort without toasting', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new DOMException('aborted', 'AbortError')))

    await expect(getTargets()).rejects.toMatchObject({ name: 'AbortError' })
    expect(onError).not.toHaveBeenCalled()
  })

  it('turns an answer that is not the JSON it should be into a bad_response', async () => {
    mockApi({ 'GET /api/targets': () => new Response('<html>', { status: 200, headers: { 'content-type': 'text/html' } }) })

    await expect(getTargets()).rejects.toMatchObject({ code: BAD_RESPONSE })
    expect(onError).toHaveBeenCalledOnce()
  })
})
