// The home page's pure parts: the next schedule fires across schedules, the outcome
// chart's series, and whether a poll's answer changed what the page shows.
import type { DayOutcomes, Schedule } from '@/api/types'

export interface NextFire {
  scheduleId: number
  name: string
  at: string
}

/** The `n` soonest next fires of the enabled schedules, soonest first. */
export function nextFires(schedules: readonly Schedule[], n: number): NextFire[] {
  return schedules
    .filter((s) => s.enabled && s.next_runs.length > 0)
    .map((s) => ({ scheduleId: s.id, name: s.name, at: s.next_runs[0]! }))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
    .slice(0, n)
}

export interface OutcomeSeries {
  dates: string[]
  success: number[]
  error: number[]
  cancelled: number[]
}

export function outcomeSeries(days: readonly DayOutcomes[]): OutcomeSeries {
  return {
    dates: days.map((d) => d.date),
    success: days.map((d) => d.success),
    error: days.map((d) => d.error),
    cancelled: days.map((d) => d.cancelled),
  }
}

/** A stable fingerprint of what the page shows: a poll changed it when this differs. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value)
}
