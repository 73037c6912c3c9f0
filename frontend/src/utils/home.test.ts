import { describe, expect, it } from 'vitest'
import type { Schedule } from '@/api/types'
import { fingerprint, nextFires, outcomeSeries } from './home'

function schedule(id: number, enabled: boolean, nextRuns: string[]): Schedule {
  return { id, name: `s${id}`, enabled, next_runs: nextRuns } as unknown as Schedule
}

describe('home page', () => {
  it('lists the soonest next fires of enabled schedules only', () => {
    const got = nextFires(
      [
        schedule(1, true, ['2026-12-03T12:00:00+08:00']),
        schedule(2, false, ['2026-12-03T01:00:00Z']),
        schedule(3, true, ['2026-12-03T03:00:00Z']),
        schedule(4, true, []),
      ],
      5,
    )
    expect(got.map((f) => f.scheduleId)).toEqual([3, 1])
  })

  it('turns days into one series per outcome, oldest first', () => {
    const s = outcomeSeries([
      { date: '2026-12-02', success: 3, error: 1, cancelled: 0 },
      { date: '2026-12-03', success: 0, error: 0, cancelled: 2 },
    ])
    expect(s).toEqual({ dates: ['2026-12-02', '2026-12-03'], success: [3, 0], error: [1, 0], cancelled: [0, 2] })
  })

  it('sees a change in any shown value', () => {
    expect(fingerprint({ running: [1] })).not.toBe(fingerprint({ running: [1, 2] }))
    expect(fingerprint({ running: [1] })).toBe(fingerprint({ running: [1] }))
  })
})
