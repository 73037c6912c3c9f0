import { describe, expect, it } from 'vitest'
import { describeCron, emptyForm, formatInZone, toInput } from './schedules'

describe('schedules', () => {
  it('describes cron expressions and nicknames in English and Chinese', () => {
    expect(describeCron('*/15 * * * *', 'en')).toBe('Every 15 minutes')
    expect(describeCron('@daily', 'en')).toBe('At 00:00')
    expect(describeCron('0 9 * * 1-5', 'zh-CN')).toContain('09:00')
    expect(describeCron('0 9 * * 1-5', 'zh-CN')).not.toBe(describeCron('0 9 * * 1-5', 'en'))
    expect(describeCron('not cron', 'en')).toBe('')
  })

  it('shows one instant in the schedule zone and in another zone', () => {
    const iso = '2031-03-30T03:00:00+02:00'
    expect(formatInZone(iso, 'Europe/Berlin')).toBe('2031-03-30 03:00 +02:00')
    expect(formatInZone(iso, 'Asia/Shanghai')).toBe('2031-03-30 09:00 +08:00')
    expect(formatInZone(iso, 'UTC')).toBe('2031-03-30 01:00 +00:00')
  })

  it('sends the job body only when it is new or changed', () => {
    const original = { ...emptyForm(), job: '{"name":"j","scripts":[]}' }
    expect(toInput(original, original).job).toBeUndefined()
    const changed = { ...original, job: '{"name":"k","scripts":[]}' }
    expect(toInput(changed, original).job).toEqual({ name: 'k', scripts: [] })
    expect(toInput(original).job).toEqual({ name: 'j', scripts: [] })
    expect(() => toInput({ ...original, job: '{' })).toThrow(SyntaxError)
  })
})
