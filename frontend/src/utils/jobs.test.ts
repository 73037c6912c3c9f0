import { describe, expect, it } from 'vitest'
import type { Role, Run } from '@/api/types'
import { job, run, script, user } from '@/test/fixtures'
import {
  applyJobEvent,
  applyRunEvent,
  applyScriptEvent,
  canCancelJob,
  canRetryJob,
  canSubmitJobs,
  countRuns,
  elapsedMs,
  progressPercent,
  runProgress,
  splitRuns,
  successRatio,
} from './jobs'

const twoScripts = () =>
  job({
    id: 7,
    scripts: [
      script({ index: 0, runs: [run({ id: 1, status: 'success' })] }),
      script({ index: 1, runs: [run({ id: 2, status: 'running', statements_done: 1, statements_total: 3 })] }),
    ],
  })

describe('applying live events to a cached job', () => {
  it('replaces the changed run in its script and leaves the cached job untouched', () => {
    const before = twoScripts()
    const snapshot = JSON.stringify(before)

    const after = applyRunEvent(before, {
      job_id: 7,
      script_index: 1,
      run: run({ id: 2, status: 'running', statements_done: 2, statements_total: 3 }),
    })

    expect(after.scripts[1]!.runs[0]!.statements_done).toBe(2)
    expect(JSON.stringify(before)).toBe(snapshot)
    // Untouched parts are shared, changed parts are new objects.
    expect(after.scripts[0]).toBe(before.scripts[0])
    expect(after.scripts[1]).not.toBe(before.scripts[1])
  })

  it('appends the run of a new attempt after the one it supersedes', () => {
    const after = applyRunEvent(twoScripts(), {
      job_id: 7,
      script_index: 1,
      run: run({ id: 9, attempt: 2, status: 'waiting' }),
    })

    expect(after.scripts[1]!.runs.map((r) => r.id)).toEqual([2, 9])
  })

  it("keeps the script's counts by status in step with run events, latest attempts only", () => {
    const cached = job({ scripts: [script({ runs: [run({ id: 1, status: 'running' }), run({ id: 2, target_id: 2, status: 'waiting' })] })] })
    expect(cached.scripts[0]!.counts).toMatchObject({ running: 1, waiting: 1, error: 0 })

    const ended = applyRunEvent(cached, { job_id: 7, script_index: 0, run: run({ id: 1, status: 'error' }) })
    expect(ended.scripts[0]!.counts).toMatchObject({ running: 0, waiting: 1, error: 1 })

    // A retry: the new attempt arrives, then the attempt it replaces as superseded.
    const retried = applyRunEvent(ended, { job_id: 7, script_index: 0, run: run({ id: 3, attempt: 2, status: 'waiting' }) })
    const replaced = applyRunEvent(retried, {
      job_id: 7,
      script_index: 0,
      run: run({ id: 1, status: 'error', superseded: true }),
    })
    expect(replaced.scripts[0]!.counts).toEqual({ waiting: 2, running: 0, success: 0, error: 0, cancelled: 0 })
    expect(replaced.scripts[0]!.counts).toEqual(countRuns(replaced.scripts[0]!.runs))
  })

  it('ignores events of another job or an unknown script', () => {
    const before = twoScripts()

    expect(applyRunEvent(before, { job_id: 8, script_index: 1, run: run({ id: 2 }) })).toBe(before)
    expect(applyRunEvent(before, { job_id: 7, script_index: 5, run: run({ id: 2 }) })).toBe(before)
    expect(applyScriptEvent(before, { job_id: 8, index: 0, status: 'error' })).toBe(before)
    expect(applyJobEvent(before, { id: 8, status: 'error', attempt: 1, started_at: null, finished_at: null })).toBe(before)
  })

  it('sets a script status and the job status, attempt and times', () => {
    const before = twoScripts()

    const scripted = applyScriptEvent(before, { job_id: 7, index: 1, status: 'error' })
    const ended = applyJobEvent(scripted, {
      id: 7,
      status: 'error',
      attempt: 2,
      started_at: '2026-11-28T00:00:00Z',
      finished_at: '2026-11-28T00:00:05Z',
    })

    expect(scripted.scripts.map((s) => s.status)).toEqual(['waiting', 'error'])
    expect(before.scripts[1]!.status).toBe('waiting')
    expect(ended).toMatchObject({ status: 'error', attempt: 2, finished_at: '2026-11-28T00:00:05Z' })
    expect(before.status).toBe('waiting')
  })
})

describe('job permissions', () => {
  it.each([
    ['admin', true],
    ['operator', true],
    ['developer', true],
    ['viewer', false],
  ] as const)('lets a %s submit jobs: %s', (role, allowed) => {
    expect(canSubmitJobs(user({ role }))).toBe(allowed)
  })

  const running = job({ created_by: 'alice', status: 'running' })
  const failed = job({
    created_by: 'alice',
    status: 'error',
    finished_at: '2026-11-28T00:00:05Z',
    scripts: [script({ runs: [run({ status: 'error' })] })],
  })

  it.each<[string, Role, boolean]>([
    ['the owner (a developer)', 'developer', true],
    ['another developer', 'developer', false],
    ['an operator', 'operator', true],
    ['an admin', 'admin', true],
    ['a viewer', 'viewer', false],
  ])('lets %s cancel a running job: %s', (who, role, allowed) => {
    const username = who.startsWith('the owner') ? 'alice' : 'bob'
    expect(canCancelJob(user({ username, role }), running)).toBe(allowed)
    expect(canRetryJob(user({ username, role }), failed)).toBe(allowed)
  })

  it('offers cancel only before the job ended and retry only after, when something failed', () => {
    const owner = user({ username: 'alice', role: 'developer' })
    const succeeded = job({ ...failed, status: 'success', scripts: [script({ runs: [run({ status: 'success' })] })] })
    const retriedAndFixed = job({
      ...failed,
      scripts: [script({ runs: [run({ id: 1, status: 'error', superseded: true }), run({ id: 2, status: 'success' })] })],
    })

    expect(canCancelJob(owner, failed)).toBe(false)
    expect(canRetryJob(owner, running)).toBe(false)
    expect(canRetryJob(owner, succeeded)).toBe(false)
    // Only the latest attempt counts: a failure a retry fixed is not retried again.
    expect(canRetryJob(owner, retriedAndFixed)).toBe(false)
    expect(canCancelJob(null, running)).toBe(false)
  })
})

describe('run display helpers', () => {
  it('separates the latest attempts from the superseded ones', () => {
    const { current, superseded } = splitRuns([
      run({ id: 1, superseded: true }),
      run({ id: 2 }),
      run({ id: 3, target_id: 2 }),
    ])

    expect(current.map((r) => r.id)).toEqual([2, 3])
    expect(superseded.map((r) => r.id)).toEqual([1])
  })

  it('shows progress only once the statement count is known', () => {
    expect(progressPercent({ statements_done: 0, statements_total: null })).toBeNull()
    expect(progressPercent({ statements_done: 1, statements_total: 3 })).toBe(33)
    expect(progressPercent({ statements_done: 0, statements_total: 0 })).toBe(100)
  })

  it('draws a cancelled run in the cancelled colour and a running one of unknown length as indeterminate', () => {
    const of = (status: Run['status'], done: number, total: number | null) =>
      runProgress({ status, statements_done: done, statements_total: total })
    expect(of('cancelled', 1, 1)).toEqual({ percent: 100, tone: 'warning', indeterminate: false, label: '1/1' })
    expect(of('cancelled', 0, null)).toEqual({ percent: 0, tone: 'warning', indeterminate: false, label: '—' })
    expect(of('running', 0, null)).toEqual({ percent: null, tone: 'info', indeterminate: true, label: '—' })
    expect(of('running', 2, null)).toMatchObject({ indeterminate: true, label: '2/—' })
    expect(of('running', 1, 3)).toEqual({ percent: 33, tone: 'info', indeterminate: false, label: '1/3' })
    expect(of('waiting', 0, null)).toEqual({ percent: 0, tone: 'default', indeterminate: false, label: '—' })
    expect(of('success', 3, 3)).toMatchObject({ percent: 100, tone: 'success', label: '3/3' })
    expect(of('error', 1, 3)).toMatchObject({ percent: 33, tone: 'error', label: '1/3' })
  })

  it('measures a run to its end, or to now while it runs', () => {
    const start = '2026-11-28T00:00:00Z'
    expect(elapsedMs(start, '2026-11-28T00:00:02.500Z')).toBe(2500)
    expect(elapsedMs(start, null, Date.parse('2026-11-28T00:01:00Z'))).toBe(60_000)
    expect(elapsedMs(null, null)).toBeNull()
  })
})

describe("a listed job's success ratio", () => {
  const ratio = (total: number, succeeded: number, failed = 0, cancelled = 0) =>
    successRatio({ runs_total: total, runs_succeeded: succeeded, runs_failed: failed, runs_cancelled: cancelled })

  it("counts the runs that succeeded out of all, and draws each outcome's share", () => {
    const r = ratio(3, 2, 1)
    expect(r.label).toBe('2/3')
    expect(r.percent).toBe(66)
    expect(r.segments.succeeded).toBeCloseTo(66.67, 1)
    expect(r.segments.failed).toBeCloseTo(33.33, 1)
    expect(r.segments.cancelled).toBe(0)
  })

  it('says 100% only when every run succeeded', () => {
    expect(ratio(1000, 999, 1).percent).toBe(99)
    expect(ratio(4, 4).percent).toBe(100)
  })

  it('leaves the runs still to end undrawn', () => {
    const r = ratio(10, 2, 1, 1)
    expect(r.label).toBe('2/10')
    expect(r.segments).toEqual({ succeeded: 20, failed: 10, cancelled: 10 })
  })

  it('has no share for a job without runs', () => {
    expect(ratio(0, 0)).toEqual({ label: '—', percent: null, segments: { succeeded: 0, failed: 0, cancelled: 0 } })
  })
})
