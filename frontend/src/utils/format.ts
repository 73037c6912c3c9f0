// Display formatting shared by tables.

/**
 * An instant as ISO 8601 wall-clock time in `zone` (the viewer's by default), 24-hour, with
 * the zone's UTC offset: `2026-12-03 17:30:05 +08:00`, the same in every language.
 */
export function isoInZone(d: Date, zone?: string, seconds = true): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(d)
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? ''
  // `GMT+08:00`, or `GMT` for UTC itself.
  const offset = part('timeZoneName').replace('GMT', '') || '+00:00'
  const time = `${part('hour')}:${part('minute')}${seconds ? `:${part('second')}` : ''}`
  return `${part('year')}-${part('month')}-${part('day')} ${time} ${offset}`
}

/** A server timestamp (RFC 3339 UTC) in the viewer's time zone (see `isoInZone`). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return isoInZone(d)
}

export function isPast(iso: string | null | undefined, now = Date.now()): boolean {
  return !!iso && new Date(iso).getTime() <= now
}

/** A round trip in milliseconds: a decimal below 10 ms, whole numbers above. */
export function formatMs(ms: number): string {
  return ms < 10 ? (Math.round(ms * 10) / 10).toString() : Math.round(ms).toString()
}

/** RFC 3339 without milliseconds, the form the API documents. */
export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** The last second of the local day containing `ms`, so a date range includes its end day. */
export function endOfDay(ms: number): number {
  const d = new Date(ms)
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime() - 1000
}

/** A duration for tables: "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`
  const s = Math.floor(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
}
