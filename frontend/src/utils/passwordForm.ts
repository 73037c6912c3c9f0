// The "Change password" form on the Account page: what is checked before the
// request (the server's own rules: 10 to 1024 characters), and which field a
// refusal belongs to. Messages are locale keys, translated by the view.
import { ApiError } from '@/api/http'
import type { PasswordChange } from '@/api/types'

/** users::validate_password on the server. */
export const MIN_PASSWORD_CHARS = 10
export const MAX_PASSWORD_CHARS = 1024

export interface PasswordModel {
  current: string
  next: string
  confirm: string
}

export type PasswordField = keyof PasswordModel

/** A problem with one field: a locale key and its parameters. */
export interface FieldProblem {
  field: PasswordField
  key: string
  params?: Record<string, number>
}

export function emptyPasswordModel(): PasswordModel {
  return { current: '', next: '', confirm: '' }
}

/** Characters as the server counts them (code points, not UTF-16 units). */
function chars(s: string): number {
  return [...s].length
}

/** The first problem the form can see by itself, or null when it may be sent. */
export function checkPasswordModel(m: PasswordModel): FieldProblem | null {
  if (!m.current) return { field: 'current', key: 'account.password.currentRequired' }
  const n = chars(m.next)
  if (n < MIN_PASSWORD_CHARS || n > MAX_PASSWORD_CHARS) {
    return {
      field: 'next',
      key: 'account.password.length',
      params: { min: MIN_PASSWORD_CHARS, max: MAX_PASSWORD_CHARS },
    }
  }
  if (m.next === m.current) return { field: 'next', key: 'account.password.same' }
  if (m.confirm !== m.next) return { field: 'confirm', key: 'account.password.mismatch' }
  return null
}

export function toPasswordChange(m: PasswordModel): PasswordChange {
  return { current_password: m.current, new_password: m.next }
}

/**
 * Where the server's refusal goes: a wrong current password or a rule on the
 * new one under its field; a 429 says when to try again. Anything else is not
 * the form's (null: let the toast show it).
 */
export function passwordRefusal(err: unknown): FieldProblem | null {
  if (!(err instanceof ApiError)) return null
  if (err.code === 'wrong_password') return { field: 'current', key: 'account.password.wrong' }
  if (err.status === 429) {
    return { field: 'current', key: 'account.password.tooMany', params: { s: err.retryAfter ?? 1 } }
  }
  if (err.status === 400 && err.field === 'new_password') {
    return {
      field: 'next',
      key: 'account.password.length',
      params: { min: MIN_PASSWORD_CHARS, max: MAX_PASSWORD_CHARS },
    }
  }
  return null
}
