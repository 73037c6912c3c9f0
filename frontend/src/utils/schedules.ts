// Schedules for display: a cron expression in words (cronstrue), fire times in a given zone.
import cronstrue from 'cronstrue'
// Only the Chinese locale beside the built-in English (the full i18n bundle has 40).
import 'cronstrue/locales/zh_CN'
import type { ScheduleInput, Schedule } from '@/api/types'
import { isoInZone } from './format'

const NICKNAMES: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
}

/** The expression in words, in the UI's language; '' when cronstrue cannot read it. */
export function describeCron(cron: string, locale: string): string {
  const text = cron.trim()
  const expr = NICKNAMES[text.toLowerCase()] ?? text
  if (!expr) return ''
  try {
    return cronstrue.toString(expr, {
      locale: locale === 'zh-CN' ? 'zh_CN' : 'en',
      use24HourTimeFormat: true,
      throwExceptionOnParseError: true,
    })
  } catch {
    return ''
  }
}

/** The viewer's IANA zone, as the browser reports it. */
export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

/** An instant (RFC 3339) as wall-clock time in `zone`: ISO 8601, 24-hour, with its offset. */
export function formatInZone(iso: string | null | undefined, zone: string): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  try {
    return isoInZone(d, zone, false)
  } catch {
    return iso
  }
}

/** The editor's fields. */
export interface ScheduleForm {
  name: string
  cron: string
  timezone: string
  enabled: boolean
  overlap: Schedule['overlap']
  misfire: Schedule['misfire']
  /** The job body as JSON text. */
  job: string
}

export function emptyForm(): ScheduleForm {
  return {
    name: '',
    cron: '0 2 * * *',
    timezone: viewerZone(),
    enabled: true,
    overlap: 'skip',
    misfire: 'skip',
    job: JSON.stringify({ name: '', scripts: [{ sql: '', target_ids: [] }], on_error: 'stop' }, null, 2),
  }
}

export function formOf(s: Schedule): ScheduleForm {
  return {
    name: s.name,
    cron: s.cron,
    timezone: s.timezone,
    enabled: s.enabled,
    overlap: s.overlap,
    misfire: s.misfire,
    job: JSON.stringify(s.job, null, 2),
  }
}

/**
 * The request body. The job body is sent only when it is new or was changed: an answer shows
 * it redacted, so sending that back unchanged would replace the stored body.
 * Throws a SyntaxError when the job text is not JSON.
 */
export function toInput(form: ScheduleForm, original?: ScheduleForm): ScheduleInput {
  const body: ScheduleInput = {
    name: form.name.trim(),
    cron: form.cron.trim(),
    timezone: form.timezone.trim() || null,
    enabled: form.enabled,
    overlap: form.overlap,
    misfire: form.misfire,
  }
  if (!original || original.job !== form.job) {
    body.job = JSON.parse(form.job) as ScheduleInput['job']
  }
  return body
}
