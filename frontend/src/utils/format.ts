// Display formatting shared by tables.
import { currentLocale } from '@/locales'

/** A server timestamp (RFC 3339 UTC) in the viewer's time zone and language. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(currentLocale(), {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
}

export function isPast(iso: string | null | undefined, now = Date.now()): boolean {
  return !!iso && new Date(iso).getTime() <= now
}

/** A round trip in milliseconds: a decimal below 10 ms, whole numbers above. */
export function formatMs(ms: number): string {
  return ms < 10 ? (Math.round(ms * 10) / 10).toString() : Math.round(ms).toString()
}
