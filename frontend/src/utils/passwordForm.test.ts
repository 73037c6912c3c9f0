import { beforeEach, describe, expect, it, vi } from 'vitest'
import { authApi } from '@/api/auth'
import { configureHttp } from '@/api/http'
import { apiError, json, mockApi } from '@/test/mockApi'
import { checkPasswordModel, passwordRefusal, toPasswordChange } from './passwordForm'

beforeEach(() => {
  configureHttp({ onError: vi.fn(), onUnauthorized: vi.fn() })
})

const ok = { current: 'old-password', next: 'a-new-password', confirm: 'a-new-password' }

async function refusalOf(reply: Response) {
  mockApi({ 'POST /api/auth/password': reply })
  const err = await authApi.changePassword(toPasswordChange(ok), { silent: true }).catch((e: unknown) => e)
  return passwordRefusal(err)
}

describe('change password form', () => {
  it('sends the current and the new password, not the repetition', async () => {
    const api = mockApi({ 'POST /api/auth/password': json(204) })

    expect(checkPasswordModel(ok)).toBeNull()
    await authApi.changePassword(toPasswordChange(ok))

    expect(api.callsTo('POST', '/api/auth/password')[0]!.body).toEqual({
      current_password: 'old-password',
      new_password: 'a-new-password',
    })
  })

  it('holds the new password to the server rules before sending', () => {
    expect(checkPasswordModel({ ...ok, current: '' })?.field).toBe('current')
    expect(checkPasswordModel({ ...ok, next: 'short', confirm: 'short' })).toMatchObject({
      field: 'next',
      key: 'account.password.length',
      params: { min: 10, max: 1024 },
    })
    // Counted as the server counts: ten CJK characters are ten, not thirty bytes.
    const cjk = '密'.repeat(10)
    expect(checkPasswordModel({ ...ok, next: cjk, confirm: cjk })).toBeNull()
    expect(checkPasswordModel({ ...ok, next: 'x'.repeat(1025), confirm: 'x'.repeat(1025) })?.field).toBe('next')
    expect(checkPasswordModel({ ...ok, next: ok.current, confirm: ok.current })?.key).toBe('account.password.same')
    expect(checkPasswordModel({ ...ok, confirm: 'a-new-passwore' })).toMatchObject({
      field: 'confirm',
      key: 'account.password.mismatch',
    })
  })

  it('puts a wrong current password under its field without signing the user out', async () => {
    const unauthorized = vi.fn()
    configureHttp({ onError: vi.fn(), onUnauthorized: unauthorized })

    const problem = await refusalOf(apiError(403, 'wrong_password', 'the current password is wrong', 'current_password'))

    expect(problem).toEqual({ field: 'current', key: 'account.password.wrong' })
    expect(unauthorized).not.toHaveBeenCalled()
  })

  it('says when to try again after too many wrong passwords', async () => {
    const problem = await refusalOf(
      json(429, { error: 'too_many_attempts', message: 'too many' }, { 'retry-after': '42' }),
    )

    expect(problem).toEqual({ field: 'current', key: 'account.password.tooMany', params: { s: 42 } })
  })

  it('puts the server refusing the new password under the new password', async () => {
    const problem = await refusalOf(apiError(400, 'invalid_input', 'must be 10 to 1024 characters', 'new_password'))

    expect(problem?.field).toBe('next')
  })

  it('leaves other failures to the toast', async () => {
    expect(await refusalOf(apiError(403, 'forbidden', 'not with an API token'))).toBeNull()
    expect(await refusalOf(apiError(503, 'store_unavailable', 'later'))).toBeNull()
  })
})
