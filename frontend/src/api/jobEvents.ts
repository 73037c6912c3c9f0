// Live progress of one job: GET /api/jobs/{id}/events as Server-Sent Events.
import { openEventStream } from './eventStream'
import { buildUrl } from './http'
import type { Job, JobChangeEvent, JobEndEvent, RunEvent, ScriptEvent } from './types'

interface JobEvents {
  snapshot: Job
  run: RunEvent
  script: ScriptEvent
  job: JobChangeEvent
  end: JobEndEvent
}

export interface JobEventHandlers {
  snapshot: (job: Job) => void
  run: (event: RunEvent) => void
  script: (event: ScriptEvent) => void
  job: (event: JobChangeEvent) => void
  /** The job has ended; the stream is already closed. */
  end: (event: JobEndEvent) => void
  /** The stream could not open, broke, or the server sent an `error` event; it is closed. */
  error: () => void
}

export function jobEventsUrl(id: number): string {
  return buildUrl(`/jobs/${id}/events`)
}

/** Opens the stream; the returned function closes it (idempotent). */
export function openJobEvents(id: number, handlers: JobEventHandlers): () => void {
  const { error, ...events } = handlers
  return openEventStream<JobEvents>(jobEventsUrl(id), events, { end: 'end', error })
}
