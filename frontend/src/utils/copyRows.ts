// Rows of a result as text to paste elsewhere: TSV (spreadsheets), CSV (RFC
// 4180, as the server's export writes it), JSON (typed, never losing digits),
// or INSERT statements in the target engine's SQL. Pure: the grid and its copy
// dialog call these and put the text on the clipboard.
import type { Cell, Engine, ResultColumn } from '@/api/types'
import { jsonSource, layoutJson } from '@/utils/jsonText'

export type CopyFormat = 'tsv' | 'csv' | 'json' | 'insert'
export const COPY_FORMATS: readonly CopyFormat[] = ['tsv', 'csv', 'json', 'insert']

/** The table an INSERT names when the user gives none: obviously a placeholder. */
export const TABLE_PLACEHOLDER = 'table_name'

export interface CopyOptions {
  /** TSV and CSV: a first line of column names (default true). */
  header?: boolean
  /** INSERT: the SQL dialect (default postgres). */
  dialect?: Engine
  /** INSERT: the table, written as given (it may be `schema.table`); default TABLE_PLACEHOLDER. */
  table?: string
}

/**
 * A value as plain text, as the server's CSV export writes it: bytes as hex,
 * JSON as the database wrote it, times ISO-8601; NULL is null (each format writes it its own way).
 */
export function plainText(cell: Cell): string | null {
  switch (cell.t) {
    case 'null':
      return null
    case 'bool':
      return cell.v ? 'true' : 'false'
    case 'int':
    case 'float':
      return String(cell.v)
    case 'json':
      return jsonSource(cell.v)
    default:
      return (cell as { v: unknown }).v === undefined ? '' : String((cell as { v: unknown }).v)
  }
}

/**
 * A spreadsheet runs a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return:
 * such text (never typed numbers) gets a leading single quote, as the server's CSV export does.
 */
function guardFormula(text: string, isText: boolean): string {
  return isText && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
}

function isTextual(cell: Cell | null): boolean {
  return cell === null || cell.t === 'text'
}

/** One TSV field: quoted (quotes doubled) when it holds a tab, a line break or a quote, as spreadsheets copy. */
function tsvField(text: string): string {
  return /[\t\r\n"]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, and
 * when guarded against formulas (quoted as well, as the server's export does).
 */
function csvField(raw: string, isText: boolean): string {
  const text = guardFormula(raw, isText)
  return text !== raw || /[,"\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** Tab-separated, one line per row (LF); NULL and the empty string are both an empty field. */
export function toTsv(columns: ResultColumn[], rows: Cell[][], header = true): string {
  const lines: string[] = []
  if (header) lines.push(columns.map((c) => tsvField(guardFormula(c.name, true))).join('\t'))
  for (const row of rows) {
    lines.push(
      columns
        .map((_, i) => {
          const cell = row[i] ?? { t: 'null' }
          const text = plainText(cell)
          return text === null ? '' : tsvField(guardFormula(text, isTextual(cell)))
        })
        .join('\t'),
    )
  }
  return lines.join('\n') + '\n'
}

/** RFC 4180 with CRLF, as the export: NULL is an empty unquoted field, the empty string `""`. */
export function toCsv(columns: ResultColumn[], rows: Cell[][], header = true): string {
  const lines: string[] = []
  if (header) lines.push(columns.map((c) => csvField(c.name, true)).join(','))
  for (const row of rows) {
    lines.push(
      columns
        .map((_, i) => {
          const cell = row[i] ?? { t: 'null' }
          const text = plainText(cell)
          if (text === null) return ''
          if (text === '') return '""'
          return csvField(text, isTextual(cell))
        })
        .join(','),
    )
  }
  return lines.join('\r\n') + '\r\n'
}

/** Distinct keys for columns that share a name (`SELECT 1 AS a, 2 AS a`): `a`, `a_2`, … */
export function uniqueNames(columns: ResultColumn[]): string[] {
  const used = new Set<string>()
  return columns.map((c) => {
    let name = c.name
    for (let n = 2; used.has(name); n++) name = `${c.name}_${n}`
    used.add(name)
    return name
  })
}

/**
 * A value for JSON: numbers stay numbers only when a reader's double holds them
 * exactly (safe integers, finite floats); decimals, big integers, times and bytes
 * (hex) are strings; JSON values are themselves (parsed: `toJson` writes their text).
 */
export function jsonValue(cell: Cell): unknown {
  switch (cell.t) {
    case 'null':
      return null
    case 'bool':
      return cell.v
    case 'int':
      return Number.isSafeInteger(cell.v) ? cell.v : String(cell.v)
    case 'float':
      return Number.isFinite(cell.v) ? cell.v : String(cell.v)
    case 'json':
      return JSON.parse(jsonSource(cell.v)) as unknown
    default:
      return plainText(cell)
  }
}

/** A value written as JSON at `depth`: a JSON cell as its own text, so no digit is lost. */
function jsonText(cell: Cell, depth: number): string {
  if (cell.t !== 'json') return JSON.stringify(jsonValue(cell))
  const source = jsonSource(cell.v)
  // jsonSource is JSON text: it always lays out.
  return (layoutJson(source, 2) ?? source).replace(/\n/g, `\n${'  '.repeat(depth)}`)
}

/** An array of objects keyed by column name, indented as JSON.stringify(rows, null, 2) does. */
export function toJson(columns: ResultColumn[], rows: Cell[][]): string {
  const names = uniqueNames(columns)
  if (rows.length === 0) return '[]\n'
  const objects = rows.map((row) => {
    if (names.length === 0) return '  {}'
    const fields = names.map((name, i) => `    ${JSON.stringify(name)}: ${jsonText(row[i] ?? { t: 'null' }, 2)}`)
    return `  {\n${fields.join(',\n')}\n  }`
  })
  return `[\n${objects.join(',\n')}\n]\n`
}

/** An identifier quoted for the dialect: `name` in MySQL, "name" elsewhere, the quote doubled. */
export function quoteIdent(name: string, dialect: Engine): string {
  return dialect === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`
}

/**
 * A string literal: the quote doubled; in MySQL (whose default sql_mode reads
 * backslash escapes) the backslash doubled too.
 */
export function quoteString(text: string, dialect: Engine): string {
  const escaped = dialect === 'mysql' ? text.replace(/\\/g, '\\\\') : text
  return `'${escaped.replace(/'/g, "''")}'`
}

/** Oracle reads an ANSI datetime literal with a space, not `T`, and a space before the zone. */
function oracleDatetime(iso: string): string {
  return iso.replace('T', ' ').replace(/([+-]\d{2}:\d{2}|Z)$/, ' $1')
}

/** A value as a SQL literal of the dialect. */
export function sqlLiteral(cell: Cell, dialect: Engine): string {
  switch (cell.t) {
    case 'null':
      return 'NULL'
    case 'bool':
      // SQLite has no boolean type: its TRUE is 1.
      if (dialect === 'sqlite') return cell.v ? '1' : '0'
      return cell.v ? 'TRUE' : 'FALSE'
    case 'int':
      return String(cell.v)
    case 'float':
      return Number.isFinite(cell.v) ? String(cell.v) : quoteString(String(cell.v), dialect)
    case 'decimal':
      return cell.v
    case 'bytes':
      if (dialect === 'postgres') return `'\\x${cell.v}'::bytea`
      if (dialect === 'oracle') return `HEXTORAW('${cell.v}')`
      return `X'${cell.v}'`
    case 'json':
      return quoteString(jsonSource(cell.v), dialect)
    case 'date':
      return dialect === 'oracle' ? `DATE '${cell.v}'` : quoteString(cell.v, dialect)
    case 'timestamp':
    case 'timestamp_tz':
      // Oracle would read a plain string by NLS_DATE_FORMAT; its ANSI literal does not depend on it.
      return dialect === 'oracle' ? `TIMESTAMP '${oracleDatetime(cell.v)}'` : quoteString(cell.v, dialect)
    default:
      return quoteString(plainText(cell) ?? '', dialect)
  }
}

/** One `INSERT INTO table (cols) VALUES (...);` per row. */
export function toInserts(columns: ResultColumn[], rows: Cell[][], dialect: Engine, table = TABLE_PLACEHOLDER): string {
  const into = table.trim() || TABLE_PLACEHOLDER
  const names = columns.map((c) => quoteIdent(c.name, dialect)).join(', ')
  return rows
    .map((row) => {
      const values = columns.map((_, i) => sqlLiteral(row[i] ?? { t: 'null' }, dialect)).join(', ')
      return `INSERT INTO ${into} (${names}) VALUES (${values});\n`
    })
    .join('')
}

export function formatRows(format: CopyFormat, columns: ResultColumn[], rows: Cell[][], options: CopyOptions = {}): string {
  const header = options.header ?? true
  switch (format) {
    case 'tsv':
      return toTsv(columns, rows, header)
    case 'csv':
      return toCsv(columns, rows, header)
    case 'json':
      return toJson(columns, rows)
    case 'insert':
      return toInserts(columns, rows, options.dialect ?? 'postgres', options.table)
  }
}
