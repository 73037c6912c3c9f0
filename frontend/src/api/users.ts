// User administration (admin only): /api/users/*.
import { api, call, type RequestOptions } from './http'
import type { NewUser, UserUpdate } from './types'

export const usersApi = {
  list: (opts?: RequestOptions) => call(opts, (init) => api.GET('/api/users', init)),
  get: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/users/{id}', { ...init, params: { path: { id } } })),
  create: (body: NewUser, opts?: RequestOptions) => call(opts, (init) => api.POST('/api/users', { ...init, body })),
  update: (id: number, body: UserUpdate, opts?: RequestOptions) =>
    call(opts, (init) => api.PUT('/api/users/{id}', { ...init, params: { path: { id } }, body })),
}
