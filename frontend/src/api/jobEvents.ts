// Live progress of one job: GET /api/jobs/{id}/events as Server-Sent Events,
// followed by `useLiveResource` (snapshot, these events, then `end`).
import { buildUrl } from './http'
import type { JobChangeEvent, RunEvent, ScriptEvent } from './types'

/** The incremental events of the job stream, by name. */
export interface JobStreamEvents {
  run: RunEvent
  script: ScriptEvent
  job: JobChangeEvent
}

export function jobEventsUrl(id: number): string {
  return buildUrl(`/jobs/${id}/events`)
}
