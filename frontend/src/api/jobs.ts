// Jobs: /api/jobs/*. Live progress comes from the job's event stream (jobEvents.ts).
import { api, call, type RequestOptions } from './http'
import type { paths } from './schema'
import type { JobInput, RetryFrom } from './types'

/** Query parameters of GET /api/jobs. */
export type JobQuery = NonNullable<paths['/api/jobs']['get']['parameters']['query']>
/** Query parameters of GET /api/jobs/{id}/runs: one script's runs, by status, a page at a time. */
export type RunQuery = NonNullable<paths['/api/jobs/{id}/runs']['get']['parameters']['query']>

export const jobsApi = {
  list: (query: JobQuery, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/jobs', { ...init, params: { query } })),
  get: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/jobs/{id}', { ...init, params: { path: { id } } })),
  /** Jobs ended per day of the last `days`, counted in `timezone`. */
  outcomes: (days: number, timezone: string, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/jobs/outcomes', { ...init, params: { query: { days, timezone } } })),
  submit: (body: JobInput, opts?: RequestOptions) => call(opts, (init) => api.POST('/api/jobs', { ...init, body })),
  cancel: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/jobs/{id}/cancel', { ...init, params: { path: { id } } })),
  /** `from` absent: the server's default, the whole script. */
  retry: (id: number, from?: RetryFrom, opts?: RequestOptions) =>
    call(opts, (init) =>
      api.POST('/api/jobs/{id}/retry', { ...init, params: { path: { id } }, body: from ? { from } : {} }),
    ),
  /** Runs ordered by script, target name and attempt. */
  runs: (id: number, query: RunQuery, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/jobs/{id}/runs', { ...init, params: { path: { id }, query } })),
  runLog: (id: number, runId: number, opts?: RequestOptions) =>
    call(opts, (init) =>
      api.GET('/api/jobs/{id}/runs/{run_id}/log', { ...init, params: { path: { id, run_id: runId } } }),
    ),
}
