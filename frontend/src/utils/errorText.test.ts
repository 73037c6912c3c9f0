import { describe, expect, it } from 'vitest'
import { ApiError, BAD_RESPONSE, NETWORK_ERROR } from '@/api/http'
import { setLocale } from '@/locales'
import { errorText } from './errorText'
import { formatMs, formatTime, isoInZone } from './format'

describe('errorText', () => {
  it("shows the server's message as it is", () => {
    expect(errorText(new ApiError(409, 'conflict', 'a target named orders exists'))).toBe('a target named orders exists')
  })

  it('names the field of a validation message shown away from its form', () => {
    expect(errorText(new ApiError(400, 'invalid_input', 'must be between 1 and 65535', 'port'))).toBe(
      'port: must be between 1 and 65535',
    )
  })

  it('explains failures the server could not describe, in the chosen language', async () => {
    await setLocale('en')
    expect(errorText(new ApiError(0, NETWORK_ERROR, 'Failed to fetch'))).toMatch(/Cannot reach/)
    expect(errorText(new ApiError(502, BAD_RESPONSE, 'HTTP 502'))).toContain('502')
    await setLocale('zh-CN')
    expect(errorText(new ApiError(0, NETWORK_ERROR, 'Failed to fetch'))).toContain('无法连接')
    await setLocale('en')
  })
})

describe('formatTime', () => {
  it('is ISO 8601, 24-hour, with the offset, the same in both languages', async () => {
    const iso = '2026-12-03T15:04:05Z'
    await setLocale('en')
    expect(isoInZone(new Date(iso), 'Asia/Shanghai')).toBe('2026-12-03 23:04:05 +08:00')
    expect(isoInZone(new Date(iso), 'America/New_York')).toBe('2026-12-03 10:04:05 -05:00')
    const en = formatTime(iso)
    await setLocale('zh-CN')
    expect(formatTime(iso)).toBe(en)
    await setLocale('en')
    expect(en).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{2}:\d{2}$/)
  })
})

describe('formatMs', () => {
  it('keeps one decimal for sub-10 ms round trips and rounds the rest', () => {
    expect(formatMs(0.4321)).toBe('0.4')
    expect(formatMs(12.7)).toBe('13')
  })
})
