// How a typed result value is shown in the grid. Every value stays as the
// server sent it: decimals, times and JSON are strings and never pass through a
// JS number; NULL and the empty string look different; bytes are hex.
import type { Cell } from '@/api/types'
import { jsonSource, layoutJson } from '@/utils/jsonText'

export type CellKind = 'null' | 'empty' | 'number' | 'bool' | 'text' | 'bytes' | 'json' | 'time'

export interface CellView {
  kind: CellKind
  /** What the grid shows (possibly shortened). */
  text: string
  /** The whole value, for a tooltip, when `text` is shortened or formatted. */
  full: string | null
  /** Numbers line up on the right. */
  align: 'left' | 'right'
}

/** Hex digits of bytes shown before the value is cut (16 bytes). */
export const BYTES_SHOWN = 32
/** Characters of compact JSON shown before the value is cut. */
export const JSON_SHOWN = 80
/** Characters of text shown before the value is cut; the grid keeps one line per row. */
export const TEXT_SHOWN = 200

function cut(text: string, max: number): { text: string; full: string | null } {
  return text.length > max ? { text: `${text.slice(0, max)}…`, full: text } : { text, full: null }
}

function view(kind: CellKind, text: string, full: string | null = null, align: 'left' | 'right' = 'left'): CellView {
  return { kind, text, full, align }
}

export function formatCell(cell: Cell): CellView {
  switch (cell.t) {
    case 'null':
      return view('null', 'NULL')
    case 'text': {
      if (cell.v === '') return view('empty', "''")
      const { text, full } = cut(cell.v, TEXT_SHOWN)
      // Line breaks would make rows of different heights: shown as ↵, kept whole in the tooltip.
      const oneLine = text.replace(/\r?\n/g, '↵')
      return view('text', oneLine, full ?? (oneLine === cell.v ? null : cell.v))
    }
    case 'int':
    case 'float':
      return view('number', String(cell.v), null, 'right')
    case 'decimal':
      return view('number', cell.v, null, 'right')
    case 'bool':
      return view('bool', cell.v ? 'true' : 'false')
    case 'bytes': {
      const hex = `0x${cell.v}`
      if (cell.v.length <= BYTES_SHOWN) return view('bytes', hex)
      return view('bytes', `0x${cell.v.slice(0, BYTES_SHOWN)}…`, hex)
    }
    case 'json': {
      const known = jsonViews.get(cell)
      if (known) return known
      const { compact, pretty } = jsonForms(cell.v)
      const { text } = cut(compact, JSON_SHOWN)
      const shown = view('json', text, pretty === text ? null : pretty)
      jsonViews.set(cell, shown)
      return shown
    }
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamp_tz':
      return view('time', cell.v)
    default:
      return unknownCell(cell)
  }
}

/** A JSON cell's value compact and indented, its numbers' digits as the database wrote them. */
function jsonForms(v: unknown): { compact: string; pretty: string } {
  const source = jsonSource(v)
  // jsonSource is JSON text: it always lays out.
  return { compact: layoutJson(source) ?? source, pretty: layoutJson(source, 2) ?? source }
}

/** JSON cells as the grid shows them: laid out once per cell, not on every render. */
const jsonViews = new WeakMap<Cell, CellView>()

/** A type this UI does not know yet: its value as JSON, so nothing is hidden. */
function unknownCell(cell: never): CellView {
  const raw = cell as { v?: unknown }
  const text = typeof raw.v === 'string' ? raw.v : (JSON.stringify(raw.v) ?? '')
  return view('text', cut(text, TEXT_SHOWN).text, text.length > TEXT_SHOWN ? text : null)
}

/** How the cell viewer shows a whole value. */
export interface CellDetail {
  kind: 'null' | 'text' | 'json' | 'bytes' | 'value'
  /** What the viewer shows: the text as it is, JSON indented, bytes as a hex dump. */
  body: string
  /** What its Copy button copies: the value itself (JSON indented, bytes as plain hex). */
  copy: string
  /** Text: characters (code points). Bytes: bytes. */
  length: number
  /** Text: its size in UTF-8. */
  utf8Bytes: number | null
}

/**
 * Text that holds a JSON object or array (a bare number or word stays text),
 * or any JSON at all when the column is typed JSON: indented, digits kept.
 */
function indentedJson(text: string, anyValue: boolean): string | null {
  const s = text.trim()
  const container = (s.startsWith('{') && s.endsWith('}')) || (s.startsWith('[') && s.endsWith(']'))
  if (!container && !(anyValue && s !== '')) return null
  return layoutJson(s, 2)
}

/** Hex as a dump: offset, 16 bytes in pairs, and their printable ASCII. */
export function hexDump(hex: string): string {
  const lines: string[] = []
  for (let at = 0; at < hex.length; at += 32) {
    const chunk = hex.slice(at, at + 32)
    const pairs = chunk.match(/../g) ?? []
    const ascii = pairs
      .map((p) => {
        const code = parseInt(p, 16)
        return code >= 0x20 && code < 0x7f ? String.fromCharCode(code) : '.'
      })
      .join('')
    const offset = (at / 2).toString(16).padStart(8, '0')
    lines.push(`${offset}  ${pairs.join(' ').padEnd(47)}  ${ascii}`)
  }
  return lines.join('\n')
}

/** The whole value for the cell viewer; `type` is the column's database type (json, jsonb…). */
export function cellDetail(cell: Cell, type = ''): CellDetail {
  switch (cell.t) {
    case 'null':
      return { kind: 'null', body: 'NULL', copy: '', length: 0, utf8Bytes: null }
    case 'bytes': {
      const n = cell.v.length / 2
      return { kind: 'bytes', body: hexDump(cell.v), copy: cell.v, length: n, utf8Bytes: null }
    }
    case 'json': {
      // Indented to read; its size is the value's as the database wrote it, as for JSON in text.
      const { pretty } = jsonForms(cell.v)
      const source = jsonSource(cell.v)
      return { kind: 'json', body: pretty, copy: pretty, length: [...source].length, utf8Bytes: utf8Length(source) }
    }
    case 'text': {
      const pretty = indentedJson(cell.v, /^jsonb?$/i.test(type))
      if (pretty !== null) {
        return { kind: 'json', body: pretty, copy: pretty, length: [...cell.v].length, utf8Bytes: utf8Length(cell.v) }
      }
      return { kind: 'text', body: cell.v, copy: cell.v, length: [...cell.v].length, utf8Bytes: utf8Length(cell.v) }
    }
    default: {
      const text = formatCell(cell).full ?? formatCell(cell).text
      return { kind: 'value', body: text, copy: text, length: [...text].length, utf8Bytes: null }
    }
  }
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length
}
