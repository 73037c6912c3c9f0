// Schedules: /api/schedules/*.
import { api, call, type RequestOptions } from './http'
import type { ScheduleInput, SchedulePreviewInput } from './types'

export const schedulesApi = {
  list: (opts?: RequestOptions) => call(opts, (init) => api.GET('/api/schedules', init)),
  get: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/schedules/{id}', { ...init, params: { path: { id } } })),
  create: (body: ScheduleInput, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/schedules', { ...init, body })),
  update: (id: number, body: ScheduleInput, opts?: RequestOptions) =>
    call(opts, (init) => api.PUT('/api/schedules/{id}', { ...init, params: { path: { id } }, body })),
  remove: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.DELETE('/api/schedules/{id}', { ...init, params: { path: { id } } })),
  runNow: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/schedules/{id}/run', { ...init, params: { path: { id } } })),
  fires: (id: number, opts?: RequestOptions) =>
    call(opts, (init) => api.GET('/api/schedules/{id}/fires', { ...init, params: { path: { id }, query: {} } })),
  preview: (body: SchedulePreviewInput, opts?: RequestOptions) =>
    call(opts, (init) => api.POST('/api/schedules/preview', { ...init, body })),
}
