// Jobs: one page of the list with its filters, and the job open on the detail
// page, kept current from its event stream (or by polling when the stream fails).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { isApiError, type RequestOptions } from '@/api/http'
import { openJobEvents } from '@/api/jobEvents'
import { jobsApi, type JobQuery } from '@/api/jobs'
import type { Job, JobInput, JobStatus, JobSummary, RunLog } from '@/api/types'
import { toRfc3339 } from '@/utils/format'
import { applyJobEvent, applyRunEvent, applyScriptEvent, isEnded } from '@/utils/jobs'

export interface JobFilters {
  status: JobStatus | null
  owner: string
  /** Epoch milliseconds, as date pickers give them; null for an open end. */
  since: number | null
  until: number | null
}

export const DEFAULT_PER_PAGE = 20
/** How often the detail page asks for the job when the event stream is unavailable. */
export const POLL_INTERVAL_MS = 2000

/** How the open job is kept current. */
export type LiveMode = 'off' | 'events' | 'polling'

function emptyFilters(): JobFilters {
  return { status: null, owner: '', since: null, until: null }
}

export function toQuery(filters: JobFilters, page: number, perPage: number): JobQuery {
  return {
    status: filters.status ?? undefined,
    owner: filters.owner.trim() || undefined,
    since: filters.since === null ? undefined : toRfc3339(filters.since),
    until: filters.until === null ? undefined : toRfc3339(filters.until),
    page,
    per_page: perPage,
  }
}

export const useJobsStore = defineStore('jobs', () => {
  const filters = ref<JobFilters>(emptyFilters())
  const items = ref<JobSummary[]>([])
  const total = ref(0)
  const page = ref(1)
  const perPage = ref(DEFAULT_PER_PAGE)
  const loading = ref(false)
  let latest = 0

  /** The job on the detail page. */
  const current = ref<Job | null>(null)
  const live = ref<LiveMode>('off')
  let watchedId: number | null = null
  let closeEvents: (() => void) | null = null
  let pollTimer: ReturnType<typeof setTimeout> | null = null
  // Bumped whenever live updates stop, so a poll answer already in flight is dropped.
  let generation = 0

  async function load(nextPage = page.value, nextPerPage = perPage.value): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const res = await jobsApi.list(toQuery(filters.value, nextPage, nextPerPage))
      if (ticket !== latest) return
      items.value = res.items
      total.value = res.total
      page.value = res.page
      perPage.value = res.per_page
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  function resetFilters(): void {
    filters.value = emptyFilters()
  }

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
    resetFilters()
    items.value = []
    total.value = 0
    page.value = 1
    perPage.value = DEFAULT_PER_PAGE
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
