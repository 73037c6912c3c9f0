// Jobs: /api/jobs/*. Live progress comes from `openJobEvents` (jobEvents.ts).
import { http, type RequestOptions } from './http'
import type { SubmittedListQuery } from './lists'
import type { Job, JobInput, JobPage, RunLog } from './types'

/** Query parameters of GET /api/jobs. */
export type JobQuery = SubmittedListQuery

export const jobsApi = {
  list: (query: JobQuery, opts?: RequestOptions) => http.get<JobPage>('/jobs', { ...opts, query: { ...query } }),
  get: (id: number, opts?: RequestOptions) => http.get<Job>(`/jobs/${id}`, opts),
  submit: (body: JobInput, opts?: RequestOptions) => http.post<Job>('/jobs', body, opts),
  cancel: (id: number, opts?: RequestOptions) => http.post<Job>(`/jobs/${id}/cancel`, undefined, opts),
  retry: (id: number, opts?: RequestOptions) => http.post<Job>(`/jobs/${id}/retry`, undefined, opts),
  runLog: (id: number, runId: number, opts?: RequestOptions) =>
    http.get<RunLog>(`/jobs/${id}/runs/${runId}/log`, opts),
}
