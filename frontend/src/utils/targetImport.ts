// The target import's pure parts: the columns a CSV header may name (as the server reads
// them), and the server's per-row report turned into the dialog's table rows and summary.
import type { ImportReport, ImportRow } from '@/api/types'

/** The create fields a header may name; `name` and `engine` are needed. */
export const IMPORT_COLUMNS = [
  'name',
  'engine',
  'host',
  'port',
  'database',
  'username',
  'password',
  'query_username',
  'query_password',
  'trusted_for_queries',
  'tags',
  'options',
] as const

/** The server's limit on one import's CSV (1 MiB); it refuses more with a 400 on `csv`. */
export const MAX_IMPORT_BYTES = 1024 * 1024

export type ImportStatus = ImportRow['status']

export interface ImportTableRow {
  /** The CSV line the row starts on (the header is line 1). */
  row: number
  name: string
  status: ImportStatus
  /** The refusal in the viewer's language, with the field it names; empty when none. */
  error: string
}

/** Says a catalogued server message in the viewer's language; null when it is not catalogued. */
export type SayReason = (reason: string, params: Record<string, unknown>) => string | null

export function importTableRows(report: ImportReport, say: SayReason): ImportTableRow[] {
  return report.rows.map((r) => {
    const e = r.error
    let error = ''
    if (e) {
      const text = (e.reason ? say(e.reason, e.params ?? {}) : null) ?? e.message
      error = e.field ? `${e.field}: ${text}` : text
    }
    return { row: r.row, name: r.name ?? '', status: r.status, error }
  })
}

export interface ImportSummary {
  /** Rows created, or that would be on a dry run. */
  ok: number
  failed: number
  total: number
  dryRun: boolean
}

export function importSummary(report: ImportReport): ImportSummary {
  return {
    ok: report.dry_run ? report.would_create : report.created,
    failed: report.failed,
    total: report.rows.length,
    dryRun: report.dry_run,
  }
}

/** Naive-ui tag type of a row's result. */
export function statusType(status: ImportStatus): 'success' | 'info' | 'error' {
  return status === 'created' ? 'success' : status === 'would_create' ? 'info' : 'error'
}
