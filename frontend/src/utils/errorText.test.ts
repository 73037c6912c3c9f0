import { describe, expect, it } from 'vitest'
import { ApiError, BAD_RESPONSE, NETWORK_ERROR } from '@/api/http'
import { setLocale } from '@/locales'
import { errorText } from './errorText'
import { formatMs } from './format'

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

describe('formatMs', () => {
  it('keeps one decimal for sub-10 ms round trips and rounds the rest', () => {
    expect(formatMs(0.4321)).toBe('0.4')
    expect(formatMs(12.7)).toBe('13')
  })
})
