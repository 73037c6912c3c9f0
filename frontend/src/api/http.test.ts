import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { apiError, json, mockApi } from '@/test/mockApi'
import { ApiError, BAD_RESPONSE, NETWORK_ERROR, buildUrl, configureHttp, http } from './http'

const onError = vi.fn()
const onUnauthorized = vi.fn()

beforeEach(() => {
  configureHttp({ onError, onUnauthorized })
})
afterEach(() => {
  onError.mockReset()
  onUnauthorized.mockReset()
})

describe('http transport', () => {
  it('sends requests under /api with the session cookie and parses JSON', async () => {
    const api = mockApi({ 'GET /api/targets': json(200, [{ id: 7 }]) })

    const result = await http.get<{ id: number }[]>('/targets')

    expect(result).toEqual([{ id: 7 }])
    const init = api.calls[0]!.init
    expect(init.credentials).toBe('same-origin')
    expect((init.headers as Record<string, string>).Accept).toBe('application/json')
  })

  it('sends a JSON body with its content type', async () => {
    const api = mockApi({ 'POST /api/users': json(201, { id: 2 }) })

    await http.post('/users', { username: 'bob' })

    expect(api.calls[0]!.body).toEqual({ username: 'bob' })
    expect((api.calls[0]!.init.headers as Record<string, string>)['Content-Type']).toBe('application/json')
  })

  it('leaves empty query values out of the URL', () => {
    expect(buildUrl('/audit', { actor: 'alice', action: '', since: undefined, page: 2, until: null })).toBe(
      '/api/audit?actor=alice&page=2',
    )
  })

  it('resolves a 204 to undefined', async () => {
    mockApi({ 'DELETE /api/targets/3': json(204) })

    await expect(http.delete('/targets/3')).resolves.toBeUndefined()
  })

  it("rejects with the server's error code, message and field, and toasts the message", async () => {
    mockApi({ 'POST /api/targets': apiError(400, 'invalid_input', 'port out of range', 'port') })

    const err = await http.post('/targets', {}).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 400, code: 'invalid_input', message: 'port out of range', field: 'port' })
    expect(onError).toHaveBeenCalledOnce()
    expect(onError.mock.calls[0]![0]).toBe(err)
  })

  it('does not toast when the caller passes silent: true', async () => {
    mockApi({ 'GET /api/users': apiError(403, 'forbidden', 'admins only') })

    await expect(http.get('/users', { silent: true })).rejects.toMatchObject({ status: 403 })
    expect(onError).not.toHaveBeenCalled()
  })

  it('silences only the listed statuses when silent is a list', async () => {
    mockApi({ 'GET /api/a': apiError(409, 'conflict', 'taken'), 'GET /api/b': apiError(500, 'internal', 'id 42') })

    await expect(http.get('/a', { silent: [409] })).rejects.toMatchObject({ code: 'conflict' })
    expect(onError).not.toHaveBeenCalled()
    await expect(http.get('/b', { silent: [409] })).rejects.toMatchObject({ code: 'internal' })
    expect(onError).toHaveBeenCalledOnce()
  })

  it('sends the user to the login page on a 401', async () => {
    mockApi({ 'GET /api/targets': apiError(401, 'unauthenticated', 'session expired') })

    await expect(http.get('/targets')).rejects.toMatchObject({ status: 401 })
    expect(onUnauthorized).toHaveBeenCalledOnce()
  })

  it('does not redirect on a 401 when the caller handles it (login form)', async () => {
    mockApi({ 'POST /api/auth/login': apiError(401, 'invalid_credentials', 'wrong username or password') })

    await expect(
      http.post('/auth/login', { username: 'a', password: 'b' }, { silent: true, skipAuthRedirect: true }),
    ).rejects.toMatchObject({ code: 'invalid_credentials' })
    expect(onUnauthorized).not.toHaveBeenCalled()
    expect(onError).not.toHaveBeenCalled()
  })

  it('reads Retry-After on a 429', async () => {
    mockApi({
      'POST /api/auth/login': json(429, { error: 'too_many_attempts', message: 'slow down' }, { 'retry-after': '30' }),
    })

    await expect(http.post('/auth/login', {}, { silent: true })).rejects.toMatchObject({
      status: 429,
      retryAfter: 30,
      message: 'slow down',
    })
  })

  it('keeps the status of an error page that is not JSON (proxy 502)', async () => {
    mockApi({
      'GET /api/health': () => new Response('<html>Bad Gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
    })

    const err = await http.get('/health').catch((e: unknown) => e)

    expect(err).toMatchObject({ status: 502, code: BAD_RESPONSE })
    expect(onError).toHaveBeenCalledOnce()
  })

  it('turns a network failure into a network_error and toasts it', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')))

    await expect(http.get('/targets')).rejects.toMatchObject({ status: 0, code: NETWORK_ERROR })
    expect(onError).toHaveBeenCalledOnce()
  })

  it('rethrows an abort without toasting', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new DOMException('aborted', 'AbortError')))

    await expect(http.get('/audit')).rejects.toMatchObject({ name: 'AbortError' })
    expect(onError).not.toHaveBeenCalled()
  })
})
