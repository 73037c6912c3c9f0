// Database targets: /api/targets/*.
import { api, call, type RequestOptions } from './http'
import type { TargetInput } from './types'

export const targetsApi = {
  list: (tag?: string, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/targets', { ...init, params: { query: { tag } } })),
  get: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/targets/{id}', { ...init, params: { path: { id } } })),
  create: (body: TargetInput, opts?: RequestOptions) => call(opts, (init) => api.POST('/api/targets', { ...init, body })),
  update: (id: number, body: TargetInput, opts?: RequestOptions) =>
    call(opts, (init) => api.PUT('/api/targets/{id}', { ...init, params: { path: { id } }, body })),
  remove: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.DELETE('/api/targets/{id}', { ...init, params: { path: { id } } })),
  test: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/targets/{id}/test', { ...init, params: { path: { id } } })),
}
