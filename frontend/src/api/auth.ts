// Session and personal API tokens: /api/auth/*.
import { api, call, type RequestOptions } from './http'
import type { LoginRequest, NewApiToken, PasswordChange } from './types'

export const authApi = {
  login: (body: LoginRequest, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/auth/login', { ...init, body })),
  logout: (opts?: RequestOptions) => call(opts, (init) => api.POST('/api/auth/logout', init)),
  me: (opts?: RequestOptions) => call(opts, (init) => api.GET('/api/auth/me', init)),
  changePassword: (body: PasswordChange, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/auth/password', { ...init, body })),

  listTokens: (opts?: RequestOptions) => call(opts, (init) => api.GET('/api/auth/tokens', init)),
  createToken: (body: NewApiToken, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/auth/tokens', { ...init, body })),
  revokeToken: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.DELETE('/api/auth/tokens/{id}', { ...init, params: { path: { id } } })),
}
