import { describe, expect, it } from 'vitest'
import { endOfDay, formatDuration, toRfc3339 } from './format'

describe('toRfc3339', () => {
  it('formats times as RFC 3339 UTC without milliseconds', () => {
    expect(toRfc3339(Date.UTC(2026, 10, 27, 23, 59, 0, 123))).toBe('2026-11-27T23:59:00Z')
  })
})

describe('endOfDay', () => {
  it('ends a date range at the last second of its end day', () => {
    const morning = new Date(2026, 10, 27, 9, 30).getTime()
    const end = new Date(endOfDay(morning))

    expect([end.getDate(), end.getHours(), end.getMinutes(), end.getSeconds()]).toEqual([27, 23, 59, 59])
  })
})

describe('formatDuration', () => {
  it('picks the unit by size and pads the smaller one', () => {
    expect(formatDuration(849.6)).toBe('850 ms')
    expect(formatDuration(12_345)).toBe('12.3 s')
    expect(formatDuration(59_999)).toBe('59.9 s')
    expect(formatDuration(245_000)).toBe('4 min 05 s')
    expect(formatDuration(7_380_000)).toBe('2 h 03 min')
  })
})
