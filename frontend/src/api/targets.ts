// Database targets: /api/targets/*.
import { http, type RequestOptions } from './http'
import type { Target, TargetInput, TestResult } from './types'

export const targetsApi = {
  list: (tag?: string, opts?: RequestOptions) =>
    http.get<Target[]>('/targets', { ...opts, query: { ...opts?.query, tag } }),
  get: (id: number, opts?: RequestOptions) => http.get<Target>(`/targets/${id}`, opts),
  create: (body: TargetInput, opts?: RequestOptions) => http.post<Target>('/targets', body, opts),
  update: (id: number, body: TargetInput, opts?: RequestOptions) =>
    http.put<Target>(`/targets/${id}`, body, opts),
  remove: (id: number, opts?: RequestOptions) => http.delete(`/targets/${id}`, opts),
  test: (id: number, opts?: RequestOptions) => http.post<TestResult>(`/targets/${id}/test`, undefined, opts),
}
