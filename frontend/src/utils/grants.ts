// Rules of the temporary-access page that need no server: duration presets within a
// policy's bounds, the countdown text, which statuses are open or alarming, the poll backoff.
import type { GrantPolicy, GrantStatus } from '@/api/types'

/** The server's default `grants.min_duration_s`; a stricter server answers 400 naming the field. */
export const MIN_DURATION_S = 60

/** 15 min, 1 h, 4 h, 8 h. */
export const DURATION_PRESETS_S = [15 * 60, 3600, 4 * 3600, 8 * 3600] as const

/** Presets a policy allows: at least the minimum, at most its maximum. */
export function presetsFor(maxS: number, minS = MIN_DURATION_S): number[] {
  return DURATION_PRESETS_S.filter((s) => s >= minS && s <= maxS)
}

/** Why a custom duration is out of bounds, or null when it is fine. */
export function durationProblem(
  seconds: number | null,
  maxS: number,
  minS = MIN_DURATION_S,
): 'missing' | 'tooShort' | 'tooLong' | null {
  if (seconds === null || !Number.isFinite(seconds)) return 'missing'
  if (seconds < minS) return 'tooShort'
  if (seconds > maxS) return 'tooLong'
  return null
}

/** Seconds an open grant may still be extended by: the policy's maximum counts from the start. */
export function extendableS(createdAt: string, expiresAt: string, policy: Pick<GrantPolicy, 'max_duration_s'>): number {
  const start = new Date(createdAt).getTime()
  const end = new Date(expiresAt).getTime()
  if (Number.isNaN(start) || Number.isNaN(end)) return 0
  return Math.max(0, Math.floor((start + policy.max_duration_s * 1000 - end) / 1000))
}

/** A live countdown: "59:07", "1:02:03", "0:00" once past. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

/** A duration for labels, split into hours and minutes for i18n. */
export function splitDuration(seconds: number): { h: number; m: number } {
  return { h: Math.floor(seconds / 3600), m: Math.round((seconds % 3600) / 60) }
}

/** The grant still holds access (or is about to be taken back): the holder may end it. */
export function isOpen(status: GrantStatus): boolean {
  return status === 'pending' || status === 'active'
}

/** Statuses admins must see in the top bar. */
export const ALARM_STATUSES: readonly GrantStatus[] = ['restore_failed', 'conflict']

export function statusTagType(status: GrantStatus): 'default' | 'success' | 'info' | 'warning' | 'error' {
  switch (status) {
    case 'active':
      return 'success'
    case 'pending':
    case 'restoring':
      return 'info'
    case 'conflict':
      return 'warning'
    case 'restore_failed':
    case 'failed':
      return 'error'
    default:
      return 'default'
  }
}

/** Poll delay: doubled after each failure, capped; back to the base once a poll succeeds. */
export function nextPollDelay(failures: number, baseMs = 30_000, capMs = 5 * 60_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, failures))
}
