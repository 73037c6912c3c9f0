// Jobs: one page of the list with its filters, and the job open on the detail
// page, kept current from its event stream (or by polling when the stream fails).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { isApiError, type RequestOptions } from '@/api/http'
import { openJobEvents } from '@/api/jobEvents'
import { jobsApi, type JobQuery } from '@/api/jobs'
import type { Job, JobInput, RunLog } from '@/api/types'
import { applyJobEvent, applyRunEvent, applyScriptEvent, isEnded } from '@/utils/jobs'
import { emptySubmittedFilters, type SubmittedFilters, toSubmittedQuery, usePagedList } from './pagedList'

export type JobFilters = SubmittedFilters

export const DEFAULT_PER_PAGE = 20
/** How often the detail page asks for the job when the event stream is unavailable. */
export const POLL_INTERVAL_MS = 2000

/** How the open job is kept current. */
export type LiveMode = 'off' | 'events' | 'polling'

export const toQuery: (filters: JobFilters, page: number, perPage: number) => JobQuery = toSubmittedQuery

export const useJobsStore = defineStore('jobs', () => {
  const list = usePagedList(
    emptySubmittedFilters,
    (f, page, perPage) => jobsApi.list(toQuery(f, page, perPage)),
    DEFAULT_PER_PAGE,
  )
  const { filters, items, total, page, perPage, loading, load, resetFilters } = list

  /** The job on the detail page. */
  const current = ref<Job | null>(null)
  const live = ref<LiveMode>('off')
  let watchedId: number | null = null
  let closeEvents: (() => void) | null = null
  let pollTimer: ReturnType<typeof setTimeout> | null = null
  // Bumped whenever live updates stop, so a poll answer already in flight is dropped.
  let generation = 0

  /** The new job becomes the current one, so its page can follow it without asking for it again. */
  async function submit(input: JobInput, opts?: RequestOptions): Promise<Job> {
    const job = await jobsApi.submit(input, opts)
    close()
    current.value = job
    return job
  }

  function stopLive(): void {
    generation++
    closeEvents?.()
    closeEvents = null
    if (pollTimer !== null) clearTimeout(pollTimer)
    pollTimer = null
    live.value = 'off'
  }

  /** Keeps the current job up to date until it ends: events first, polling if they fail. */
  function startLive(id: number): void {
    stopLive()
    const gen = generation
    live.value = 'events'
    const update = (change: (job: Job) => Job) => {
      if (current.value?.id === id) current.value = change(current.value)
    }
    closeEvents = openJobEvents(id, {
      snapshot: (job) => (current.value = job),
      run: (e) => update((job) => applyRunEvent(job, e)),
      script: (e) => update((job) => applyScriptEvent(job, e)),
      job: (e) => update((job) => applyJobEvent(job, e)),
      end: () => stopLive(),
      error: () => {
        if (gen !== generation) return
        closeEvents = null
        startPolling(id, gen)
      },
    })
  }

  function startPolling(id: number, gen: number): void {
    live.value = 'polling'
    const tick = async (): Promise<void> => {
      pollTimer = null
      try {
        // Quiet: a passing outage would otherwise toast every two seconds.
        const job = await jobsApi.get(id, { silent: true })
        if (gen !== generation) return
        current.value = job
        if (isEnded(job)) return stopLive()
      } catch (err) {
        if (gen !== generation) return
        if (isApiError(err, 404) || isApiError(err, 401)) return stopLive()
      }
      pollTimer = setTimeout(() => void tick(), POLL_INTERVAL_MS)
    }
    pollTimer = setTimeout(() => void tick(), POLL_INTERVAL_MS)
  }

  /** Shows job `id` on the detail page and follows it live while it runs. */
  async function open(id: number): Promise<void> {
    stopLive()
    watchedId = id
    // A job known to be unfinished (just submitted): the stream's snapshot brings it up to date.
    if (current.value?.id === id && !isEnded(current.value)) return startLive(id)
    if (current.value?.id !== id) current.value = null
    const job = await jobsApi.get(id)
    if (watchedId !== id) return
    current.value = job
    if (!isEnded(job)) startLive(id)
  }

  /** Leaving the detail page: stop following the job. */
  function close(): void {
    stopLive()
    watchedId = null
  }

  /** After a cancel or retry the job may run again: follow it if it is still shown. */
  function adopt(job: Job): Job {
    if (watchedId !== job.id) return job
    current.value = job
    if (!isEnded(job) && live.value === 'off') startLive(job.id)
    return job
  }

  async function cancel(id: number): Promise<Job> {
    return adopt(await jobsApi.cancel(id))
  }

  async function retry(id: number): Promise<Job> {
    return adopt(await jobsApi.retry(id))
  }

  function runLog(id: number, runId: number): Promise<RunLog> {
    return jobsApi.runLog(id, runId)
  }

  function reset(): void {
    close()
    list.resetList()
    current.value = null
  }

  return {
    filters,
    items,
    total,
    page,
    perPage,
    loading,
    current,
    live,
    load,
    resetFilters,
    submit,
    open,
    close,
    cancel,
    retry,
    runLog,
    reset,
  }
})
