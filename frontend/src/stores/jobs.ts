// Jobs: one page of the list with its filters, and the job open on the detail
// page, kept current from its event stream (or by polling when the stream fails).
import { defineStore } from 'pinia'
import type { RequestOptions } from '@/api/http'
import { jobEventsUrl, type JobStreamEvents } from '@/api/jobEvents'
import { jobsApi, type JobQuery, type RunQuery } from '@/api/jobs'
import type { Job, JobInput, RetryFrom, RunEvent, RunLog, RunPage } from '@/api/types'
import { useLiveResource } from '@/composables/useLiveResource'
import { applyJobEvent, applyRunEvent, applyScriptEvent, isEnded } from '@/utils/jobs'
import { emptySubmittedFilters, type SubmittedFilters, toSubmittedQuery, usePagedList } from './pagedList'
import { forgetOnUserChange } from './reset'

export interface JobFilters extends SubmittedFilters {
  /** Part of the name, any case. */
  q: string
}

export function emptyJobFilters(): JobFilters {
  return { ...emptySubmittedFilters(), q: '' }
}

export const DEFAULT_PER_PAGE = 20
/** How often the detail page asks for the job when the event stream is unavailable. */
export const POLL_INTERVAL_MS = 2000

export type { LiveMode } from '@/composables/useLiveResource'

export function toQuery(filters: JobFilters, page: number, perPage: number): JobQuery {
  return { ...toSubmittedQuery(filters, page, perPage), q: filters.q.trim() || undefined }
}

export const useJobsStore = defineStore('jobs', () => {
  const list = usePagedList(
    emptyJobFilters,
    (f, page, perPage, opts) => jobsApi.list(toQuery(f, page, perPage), opts),
    DEFAULT_PER_PAGE,
  )
  const { filters, items, total, page, perPage, loading, load, refresh, resetFilters } = list

  /** The job on the detail page, kept current while it runs. */
  const follower = useLiveResource<Job, JobStreamEvents>({
    streamUrl: jobEventsUrl,
    fetch: (id, init) => jobsApi.get(id, init),
    idOf: (job) => job.id,
    isEnded,
    apply: { run: applyRunEvent, script: applyScriptEvent, job: applyJobEvent },
    listen: { run: (e) => runListeners.forEach((listener) => listener(e)) },
    pollIntervalMs: POLL_INTERVAL_MS,
  })
  const { current, live, endReason, replaced } = follower
  const runListeners = new Set<(event: RunEvent) => void>()

  /** Tells `listener` of each live run event of the open job; returns the unsubscribe. */
  function onRunEvent(listener: (event: RunEvent) => void): () => void {
    runListeners.add(listener)
    return () => runListeners.delete(listener)
  }
  let watchedId: number | null = null

  /** The new job becomes the current one, so its page can follow it without asking for it again. */
  async function submit(input: JobInput, opts?: RequestOptions): Promise<Job> {
    const job = await jobsApi.submit(input, opts)
    close()
    follower.set(job)
    return job
  }

  /** Shows job `id` on the detail page and follows it live while it runs. */
  async function open(id: number): Promise<void> {
    watchedId = id
    // A job known to be unfinished (just submitted): the stream's snapshot brings it up to date.
    if (current.value?.id === id && !isEnded(current.value)) return follower.follow(id)
    if (current.value?.id !== id) follower.clear()
    await follower.load(id)
  }

  /** Leaving the detail page: stop following the job. */
  function close(): void {
    follower.stop()
    watchedId = null
  }

  /** After a cancel or retry the job may run again: follow it if it is still shown. */
  function adopt(job: Job): Job {
    if (watchedId !== job.id) return job
    follower.set(job)
    if (!isEnded(job) && live.value === 'off') void follower.follow(job.id)
    return job
  }

  async function cancel(id: number): Promise<Job> {
    return adopt(await jobsApi.cancel(id))
  }

  async function retry(id: number, from?: RetryFrom): Promise<Job> {
    return adopt(await jobsApi.retry(id, from))
  }

  /** One page of one script's runs (the run table loads them as they come into view). */
  function runs(id: number, query: RunQuery, opts?: RequestOptions): Promise<RunPage> {
    return jobsApi.runs(id, query, opts)
  }

  function runLog(id: number, runId: number): Promise<RunLog> {
    return jobsApi.runLog(id, runId)
  }

  function reset(): void {
    close()
    list.resetList()
    follower.clear()
  }

  forgetOnUserChange(reset)
  return {
    filters,
    items,
    total,
    page,
    perPage,
    loading,
    current,
    live,
    endReason,
    replaced,
    onRunEvent,
    load,
    refresh,
    resetFilters,
    submit,
    open,
    close,
    cancel,
    retry,
    runs,
    runLog,
    reset,
  }
})
