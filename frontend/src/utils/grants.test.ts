import { describe, expect, it } from 'vitest'
import {
  durationProblem,
  extendableS,
  formatCountdown,
  isOpen,
  nextPollDelay,
  presetsFor,
  splitDuration,
} from './grants'

describe('grant durations', () => {
  it('offers only the presets within the policy maximum', () => {
    expect(presetsFor(8 * 3600)).toEqual([900, 3600, 14400, 28800])
    expect(presetsFor(3600)).toEqual([900, 3600])
    expect(presetsFor(600)).toEqual([])
    expect(presetsFor(8 * 3600, 2 * 3600)).toEqual([14400, 28800])
  })

  it('names the bound a custom duration breaks', () => {
    expect(durationProblem(null, 3600)).toBe('missing')
    expect(durationProblem(59, 3600)).toBe('tooShort')
    expect(durationProblem(60, 3600)).toBeNull()
    expect(durationProblem(3600, 3600)).toBeNull()
    expect(durationProblem(3601, 3600)).toBe('tooLong')
  })

  it('counts the extension room from the start of the grant, never below zero', () => {
    const policy = { max_duration_s: 4 * 3600 }
    expect(extendableS('2026-12-02T06:00:00Z', '2026-12-02T07:00:00Z', policy)).toBe(3 * 3600)
    expect(extendableS('2026-12-02T06:00:00Z', '2026-12-02T10:00:00Z', policy)).toBe(0)
    expect(extendableS('2026-12-02T06:00:00Z', '2026-12-02T11:00:00Z', policy)).toBe(0)
    expect(extendableS('garbage', '2026-12-02T11:00:00Z', policy)).toBe(0)
  })

  it('splits a duration into hours and minutes', () => {
    expect(splitDuration(5400)).toEqual({ h: 1, m: 30 })
    expect(splitDuration(900)).toEqual({ h: 0, m: 15 })
  })
})

describe('grant countdown', () => {
  it('shows minutes and seconds under an hour, hours above', () => {
    expect(formatCountdown(59_000)).toBe('0:59')
    expect(formatCountdown(3_547_000)).toBe('59:07')
    expect(formatCountdown(3_723_000)).toBe('1:02:03')
  })

  it('rounds a partial second up and stops at zero', () => {
    expect(formatCountdown(1)).toBe('0:01')
    expect(formatCountdown(0)).toBe('0:00')
    expect(formatCountdown(-5000)).toBe('0:00')
  })
})

describe('grant statuses and polling', () => {
  it('lets the holder end only a grant that still holds access', () => {
    expect(isOpen('active')).toBe(true)
    expect(isOpen('pending')).toBe(true)
    expect(isOpen('restoring')).toBe(false)
    expect(isOpen('restore_failed')).toBe(false)
    expect(isOpen('ended')).toBe(false)
  })

  it('doubles the poll delay after failures, up to a cap', () => {
    expect(nextPollDelay(0)).toBe(30_000)
    expect(nextPollDelay(1)).toBe(60_000)
    expect(nextPollDelay(3)).toBe(240_000)
    expect(nextPollDelay(10)).toBe(300_000)
  })
})
