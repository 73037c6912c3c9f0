// How a typed result value is shown in the grid. Every value stays as the
// server sent it: decimals and times are strings and never pass through a JS
// number; NULL and the empty string look different; bytes are hex.
import type { Cell } from '@/api/types'

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
      const compact = JSON.stringify(cell.v) ?? 'null'
      const pretty = JSON.stringify(cell.v, null, 2) ?? 'null'
      const { text } = cut(compact, JSON_SHOWN)
      return view('json', text, pretty === text ? null : pretty)
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

/** A type this UI does not know yet: its value as JSON, so nothing is hidden. */
function unknownCell(cell: never): CellView {
  const raw = cell as { v?: unknown }
  const text = typeof raw.v === 'string' ? raw.v : (JSON.stringify(raw.v) ?? '')
  return view('text', cut(text, TEXT_SHOWN).text, text.length > TEXT_SHOWN ? text : null)
}
