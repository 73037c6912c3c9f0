// Live progress of one job: GET /api/jobs/{id}/events as Server-Sent Events.
// The browser's EventSource sends the session cookie (same origin). On any
// failure the stream is closed and reported once: the caller polls instead of
// letting EventSource reconnect forever.
import { buildUrl } from './http'
import type { Job, JobChangeEvent, JobEndEvent, RunEvent, ScriptEvent } from './types'

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
  const source = new EventSource(jobEventsUrl(id))
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    source.close()
  }
  const fail = (): void => {
    if (closed) return
    close()
    handlers.error()
  }

  function on<T>(name: string, handle: (data: T) => void): void {
    source.addEventListener(name, (ev) => {
      if (closed) return
      let data: T
      try {
        data = JSON.parse((ev as MessageEvent<string>).data) as T
      } catch {
        fail()
        return
      }
      handle(data)
    })
  }

  on<Job>('snapshot', handlers.snapshot)
  on<RunEvent>('run', handlers.run)
  on<ScriptEvent>('script', handlers.script)
  on<JobChangeEvent>('job', handlers.job)
  on<JobEndEvent>('end', (data) => {
    // The server closes the stream after `end`; closing first stops a reconnect.
    close()
    handlers.end(data)
  })
  // Both a broken connection and the server's own `error` event arrive here.
  source.addEventListener('error', fail)
  return close
}
