// Jobs: /api/jobs/*. Live progress comes from the job's event stream (jobEvents.ts).
import { api, call, type RequestOptions } from './http'
import type { paths } from './schema'
import type { JobInput } from './types'

/** Query parameters of GET /api/jobs. */
export type JobQuery = NonNullable<paths['/api/jobs']['get']['parameters']['query']>

export const jobsApi = {
  list: (query: JobQuery, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/jobs', { ...init, params: { query } })),
  get: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/jobs/{id}', { ...init, params: { path: { id } } })),
  submit: (body: JobInput, opts?: RequestOptions) => call(opts, (init) => api.POST('/api/jobs', { ...init, body })),
  cancel: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/jobs/{id}/cancel', { ...init, params: { path: { id } } })),
  retry: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/jobs/{id}/retry', { ...init, params: { path: { id } } })),
  runLog: (id: number, runId: number, opts?: RequestOptions) =>
    call(opts, (init) =>
      api.GET('/api/jobs/{id}/runs/{run_id}/log', { ...init, params: { path: { id, run_id: runId } } }),
    ),
}
