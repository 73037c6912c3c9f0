// Temporary access: /api/grant-policies/* (admins manage, every role lists what it may use)
// and /api/grants/* (ask, extend, hand back; admins list and revoke all).
import { api, call, type RequestOptions } from './http'
import type { GrantFilter, GrantInput, PolicyInput } from './types'

export const grantsApi = {
  policies: (opts?: RequestOptions) => call(opts, (init) => api.GET('/api/grant-policies', init)),
  createPolicy: (body: PolicyInput, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/grant-policies', { ...init, body })),
  updatePolicy: (id: number, body: PolicyInput, opts?: RequestOptions) =>
    call(opts, (init) => api.PUT('/api/grant-policies/{id}', { ...init, params: { path: { id } }, body })),
  removePolicy: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.DELETE('/api/grant-policies/{id}', { ...init, params: { path: { id } } })),
  checkPolicy: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/grant-policies/{id}/check', { ...init, params: { path: { id } } })),

  list: (filter: GrantFilter = {}, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/grants', { ...init, params: { query: filter } })),
  get: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/grants/{id}', { ...init, params: { path: { id } } })),
  request: (body: GrantInput, opts?: RequestOptions) => call(opts, (init) => api.POST('/api/grants', { ...init, body })),
  extend: (id: number, durationS: number, opts?: RequestOptions) =>
    call(opts, (init) =>
      api.POST('/api/grants/{id}/extend', { ...init, params: { path: { id } }, body: { duration_s: durationS } }),
    ),
  end: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/grants/{id}/end', { ...init, params: { path: { id } } })),
}
