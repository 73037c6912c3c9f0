// Rules about jobs shared by the store and the pages: when a job has ended, how
// a live event changes a cached job (always into a new object), and who may
// submit, cancel or retry.
import type {
  Engine,
  Job,
  JobChangeEvent,
  JobStatus,
  JobSummary,
  RetryFrom,
  Role,
  Run,
  RunEvent,
  Script,
  ScriptEvent,
  StatusCounts,
  User,
} from '@/api/types'
import { JOB_STATUSES } from '@/api/types'
import { JOB_SUBMIT_ROLES } from './roles'

export { JOB_SUBMIT_ROLES }

/** Roles that may cancel or retry anyone's job; the owner always may. */
export const JOB_STEER_ROLES: Role[] = ['admin', 'operator']

export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value)
}

/** The server's own test for cancel (409 once ended) and retry (409 before). */
export function isEnded(job: Pick<Job, 'finished_at'>): boolean {
  return !!job.finished_at
}

function withScript(job: Job, index: number, change: (script: Script) => Script): Job {
  const at = job.scripts.findIndex((s) => s.index === index)
  if (at < 0) return job
  const scripts = job.scripts.slice()
  scripts[at] = change(scripts[at]!)
  return { ...job, scripts }
}

export function emptyCounts(): StatusCounts {
  return { waiting: 0, running: 0, success: 0, error: 0, cancelled: 0 }
}

/** Runs by status, latest attempts only (as the server counts them). */
export function countRuns(runs: readonly Run[]): StatusCounts {
  const counts = emptyCounts()
  for (const r of runs) if (!r.superseded && isJobStatus(r.status)) counts[r.status]++
  return counts
}

/** The counts after one run changed from `before` (absent: a new attempt) to `after`. */
function recount(counts: StatusCounts, before: Run | undefined, after: Run): StatusCounts {
  const next = { ...counts }
  if (before && !before.superseded && isJobStatus(before.status)) next[before.status] = Math.max(0, next[before.status] - 1)
  if (!after.superseded && isJobStatus(after.status)) next[after.status]++
  return next
}

/**
 * A run changed or appeared (a retry adds a new attempt, and the attempt it
 * replaces arrives as superseded). The script's counts follow without a recount.
 */
export function applyRunEvent(job: Job, event: RunEvent): Job {
  if (event.job_id !== job.id) return job
  return withScript(job, event.script_index, (script) => {
    const at = script.runs.findIndex((r) => r.id === event.run.id)
    const before = at < 0 ? undefined : script.runs[at]
    const runs = script.runs.slice()
    if (at < 0) runs.push(event.run)
    else runs[at] = event.run
    return { ...script, runs, counts: recount(script.counts, before, event.run) }
  })
}

export function applyScriptEvent(job: Job, event: ScriptEvent): Job {
  if (event.job_id !== job.id) return job
  return withScript(job, event.index, (script) => ({ ...script, status: event.status }))
}

export function applyJobEvent(job: Job, event: JobChangeEvent): Job {
  if (event.id !== job.id) return job
  const { status, attempt, started_at, finished_at } = event
  return { ...job, status, attempt, started_at, finished_at }
}

/** The latest attempt on each target, and the earlier attempts a retry replaced. */
export function splitRuns(runs: readonly Run[]): { current: Run[]; superseded: Run[] } {
  return {
    current: runs.filter((r) => !r.superseded),
    superseded: runs.filter((r) => r.superseded),
  }
}

/** Whether a retry has anything to run again: a latest attempt that failed or was cancelled. */
export function hasFailedRuns(job: Job): boolean {
  return job.scripts.some((s) => s.runs.some((r) => !r.superseded && (r.status === 'error' || r.status === 'cancelled')))
}

export function canSubmitJobs(user: User | null): boolean {
  return user !== null && JOB_SUBMIT_ROLES.includes(user.role)
}

/** The owner, operators and admins may steer a job. */
export function canSteerJob(user: User | null, job: Pick<Job, 'created_by'>): boolean {
  if (user === null) return false
  return user.username === job.created_by || JOB_STEER_ROLES.includes(user.role)
}

export function canCancelJob(user: User | null, job: Job): boolean {
  return canSteerJob(user, job) && !isEnded(job)
}

export function canRetryJob(user: User | null, job: Job): boolean {
  return canSteerJob(user, job) && isEnded(job) && hasFailedRuns(job)
}

/** Statements done as a percentage, or null while the total is not known yet. */
export function progressPercent(run: Pick<Run, 'statements_done' | 'statements_total'>): number | null {
  const total = run.statements_total
  if (total === null || total === undefined) return null
  if (total <= 0) return 100
  return Math.min(100, Math.round((run.statements_done / total) * 100))
}

/** How a run's statement progress is drawn: a bar in its status's colour and a count. */
export interface RunProgress {
  /** Null while the number of statements is unknown. */
  percent: number | null
  tone: 'default' | 'info' | 'success' | 'error' | 'warning'
  /** Running, but how many statements there are is not known yet: a moving bar, no share. */
  indeterminate: boolean
  label: string
}

/** The colours of JobStatusTag: a cancelled run is never drawn as a success. */
const PROGRESS_TONES: Record<JobStatus, RunProgress['tone']> = {
  waiting: 'default',
  running: 'info',
  success: 'success',
  error: 'error',
  cancelled: 'warning',
}

export function runProgress(run: Pick<Run, 'status' | 'statements_done' | 'statements_total'>): RunProgress {
  const pct = progressPercent(run)
  const known = run.statements_total !== null && run.statements_total !== undefined
  const tone = isJobStatus(run.status) ? PROGRESS_TONES[run.status] : 'default'
  const indeterminate = !known && run.status === 'running'
  const label = known ? `${run.statements_done}/${run.statements_total}` : run.statements_done > 0 ? `${run.statements_done}/—` : '—'
  return { percent: indeterminate ? null : (pct ?? 0), tone, indeterminate, label }
}

/** A listed job's runs as the list's success column draws them. */
export interface SuccessRatio {
  /** `succeeded/total`; `—` for a job without runs. */
  label: string
  /** The share that succeeded, rounded down (100 only when every run succeeded); null without runs. */
  percent: number | null
  /** Widths in percent of the bar; what is left is still waiting or running. */
  segments: { succeeded: number; failed: number; cancelled: number }
}

export function successRatio(
  job: Pick<JobSummary, 'runs_total' | 'runs_succeeded' | 'runs_failed' | 'runs_cancelled'>,
): SuccessRatio {
  const total = job.runs_total
  if (total <= 0) return { label: '—', percent: null, segments: { succeeded: 0, failed: 0, cancelled: 0 } }
  const share = (n: number) => Math.min(100, Math.max(0, (n / total) * 100))
  return {
    label: `${job.runs_succeeded}/${total}`,
    percent: Math.floor(share(job.runs_succeeded)),
    segments: {
      succeeded: share(job.runs_succeeded),
      failed: share(job.runs_failed),
      cancelled: share(job.runs_cancelled),
    },
  }
}

/** Time between two server timestamps; up to `now` while unfinished; null before the start. */
export function elapsedMs(
  startedAt: string | null | undefined,
  finishedAt: string | null | undefined,
  now = Date.now(),
): number | null {
  if (!startedAt) return null
  const start = new Date(startedAt).getTime()
  const end = finishedAt ? new Date(finishedAt).getTime() : now
  if (Number.isNaN(start) || Number.isNaN(end)) return null
  return Math.max(0, end - start)
}

/** Where a retry starts, in the order the dialog offers them; the first is the default. */
export const RETRY_CHOICES: readonly RetryFrom[] = ['failed_statement', 'next_statement', 'start']

/** The runs a retry runs again: latest attempts that failed or were cancelled. */
export function retriedRuns(job: Job): Run[] {
  return job.scripts.flatMap((s) => s.runs).filter((r) => !r.superseded && (r.status === 'error' || r.status === 'cancelled'))
}

/**
 * Whether a run of this job was one transaction, rolled back when it failed: a
 * transactional job on an engine with transactional DDL (as the server decides;
 * those runs restart at the top whatever the choice). MySQL/MariaDB and Oracle
 * commit each statement, DDL included.
 */
export function rolledBack(job: Pick<Job, 'transactional'>, engine: Engine | undefined): boolean {
  return job.transactional && (engine === 'postgres' || engine === 'sqlite')
}

/**
 * Whether "the whole script" would run again statements that already committed:
 * some retried run was not rolled back (an unknown engine counts as not).
 */
export function retryRepeatsCommitted(job: Job, engineOf: (targetId: number) => Engine | undefined): boolean {
  return retriedRuns(job).some((r) => !rolledBack(job, engineOf(r.target_id)))
}
