// Session and personal API tokens: /api/auth/*.
import { http, type RequestOptions } from './http'
import type { ApiToken, CreatedApiToken, LoginRequest, LoginResponse, NewApiToken, User } from './types'

export const authApi = {
  login: (body: LoginRequest, opts?: RequestOptions) =>
    http.post<LoginResponse>('/auth/login', body, opts),
  logout: (opts?: RequestOptions) => http.post<void>('/auth/logout', undefined, opts),
  me: (opts?: RequestOptions) => http.get<User>('/auth/me', opts),

  listTokens: (opts?: RequestOptions) => http.get<ApiToken[]>('/auth/tokens', opts),
  createToken: (body: NewApiToken, opts?: RequestOptions) =>
    http.post<CreatedApiToken>('/auth/tokens', body, opts),
  revokeToken: (id: number, opts?: RequestOptions) => http.delete(`/auth/tokens/${id}`, opts),
}
