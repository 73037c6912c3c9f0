// Database targets: /api/targets/*.
import { api, call, type RequestOptions } from './http'
import type { ImportInput, TargetEdits, TargetInput } from './types'

export const targetsApi = {
  list: (tag?: string, opts?: RequestOptions, health?: 'ok' | 'failed' | 'unchecked') =>
    call(opts, (init) => api.GET('/api/targets', { ...init, params: { query: { tag, health } } })),
  get: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/targets/{id}', { ...init, params: { path: { id } } })),
  create: (body: TargetInput, opts?: RequestOptions) => call(opts, (init) => api.POST('/api/targets', { ...init, body })),
  update: (id: number, body: TargetInput, opts?: RequestOptions) =>
    call(opts, (init) => api.PUT('/api/targets/{id}', { ...init, params: { path: { id } }, body })),
  remove: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.DELETE('/api/targets/{id}', { ...init, params: { path: { id } } })),
  /** Tests the stored target (its result becomes its health), or, with `edits`, the target as it would be saved. */
  test: (id: number, opts?: RequestOptions, edits?: TargetEdits) =>
    call(opts, (init) =>
      api.POST('/api/targets/{id}/test', { ...init, params: { path: { id } }, ...(edits ? { body: edits } : {}) }),
    ),
  /** Tests a target that is not saved yet (the form's "Test" before creating). */
  testUnsaved: (body: TargetInput, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/targets/test', { ...init, body })),
  import: (body: ImportInput, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/targets/import', { ...init, body })),
}
