import { describe, expect, it } from 'vitest'
import type { Cell } from '@/api/types'
import { BYTES_SHOWN, JSON_SHOWN, TEXT_SHOWN, cellDetail, formatCell, hexDump } from './cells'

describe('formatCell', () => {
  it('shows NULL as its own kind, never as empty text', () => {
    expect(formatCell({ t: 'null' })).toEqual({ kind: 'null', text: 'NULL', full: null, align: 'left' })
  })

  it("shows an empty string as a visible '' marker, distinct from NULL and from the text 'NULL'", () => {
    const empty = formatCell({ t: 'text', v: '' })
    expect(empty.kind).toBe('empty')
    expect(empty.text).toBe("''")
    const word = formatCell({ t: 'text', v: 'NULL' })
    expect(word.kind).toBe('text')
    expect(word.text).toBe('NULL')
  })

  it('keeps text as it is, and a line break on one line with the whole value in the tooltip', () => {
    expect(formatCell({ t: 'text', v: ' a  b ' })).toMatchObject({ kind: 'text', text: ' a  b ', full: null })
    expect(formatCell({ t: 'text', v: 'one\ntwo' })).toMatchObject({ text: 'one↵two', full: 'one\ntwo' })
  })

  it('cuts long text, keeping the whole value for the tooltip', () => {
    const long = 'x'.repeat(TEXT_SHOWN + 5)
    const view = formatCell({ t: 'text', v: long })
    expect(view.text).toBe(`${'x'.repeat(TEXT_SHOWN)}…`)
    expect(view.full).toBe(long)
  })

  it('right-aligns numbers and keeps decimals exactly as sent, never through a JS number', () => {
    expect(formatCell({ t: 'int', v: -42 })).toEqual({ kind: 'number', text: '-42', full: null, align: 'right' })
    expect(formatCell({ t: 'float', v: 1.5 })).toMatchObject({ text: '1.5', align: 'right' })
    // As numbers these would read 12345678901234567000 and 123.45.
    expect(formatCell({ t: 'decimal', v: '12345678901234567890.0123456789' }).text).toBe('12345678901234567890.0123456789')
    expect(formatCell({ t: 'decimal', v: '123.4500' })).toMatchObject({ kind: 'number', text: '123.4500', align: 'right' })
  })

  it('shows bytes as 0x hex, cut when long with the whole value in the tooltip', () => {
    expect(formatCell({ t: 'bytes', v: 'beef' })).toEqual({ kind: 'bytes', text: '0xbeef', full: null, align: 'left' })
    expect(formatCell({ t: 'bytes', v: '' }).text).toBe('0x')
    const hex = 'ab'.repeat(BYTES_SHOWN)
    const view = formatCell({ t: 'bytes', v: hex })
    expect(view.text).toBe(`0x${hex.slice(0, BYTES_SHOWN)}…`)
    expect(view.full).toBe(`0x${hex}`)
  })

  it('shows JSON compact, with the whole value indented in the tooltip', () => {
    const view = formatCell({ t: 'json', v: { a: [1, null], b: 'x' } })
    expect(view.kind).toBe('json')
    expect(view.text).toBe('{"a":[1,null],"b":"x"}')
    expect(view.full).toBe(JSON.stringify({ a: [1, null], b: 'x' }, null, 2))
    expect(formatCell({ t: 'json', v: null }).text).toBe('null')
    const big = { list: Array.from({ length: 50 }, (_, i) => i) }
    expect(formatCell({ t: 'json', v: big }).text).toHaveLength(JSON_SHOWN + 1)
  })

  it("shows the server's JSON text compact and indented with every digit of its numbers", () => {
    const view = formatCell({ t: 'json', v: '{"id": 12345678901234567890123, "tags": ["a"]}' })
    expect(view.text).toBe('{"id":12345678901234567890123,"tags":["a"]}')
    expect(view.full).toBe('{\n  "id": 12345678901234567890123,\n  "tags": [\n    "a"\n  ]\n}')
    expect(cellDetail({ t: 'json', v: '[9007199254740993]' }).body).toBe('[\n  9007199254740993\n]')
    // Its size is the database's text, not the indented one.
    expect(cellDetail({ t: 'json', v: '{"é": [1, 2]}' })).toMatchObject({ length: 13, utf8Bytes: 14 })
    // Nested deep: laid out too, and cut.
    expect(formatCell({ t: 'json', v: '['.repeat(600) + ']'.repeat(600) }).text).toBe(`${'['.repeat(JSON_SHOWN)}…`)
  })

  it('shows booleans as true / false', () => {
    expect(formatCell({ t: 'bool', v: true }).text).toBe('true')
    expect(formatCell({ t: 'bool', v: false })).toMatchObject({ kind: 'bool', text: 'false' })
  })

  it.each<Cell>([
    { t: 'date', v: '2024-02-29' },
    { t: 'time', v: '23:59:59.123456' },
    { t: 'timestamp', v: '2024-01-02T03:04:05.123456' },
    { t: 'timestamp_tz', v: '2024-01-02T01:04:05+00:00' },
  ])('shows a $t as the server wrote it, without converting its zone', (cell) => {
    expect(formatCell(cell)).toEqual({ kind: 'time', text: (cell as { v: string }).v, full: null, align: 'left' })
  })

  it('shows the value of a type it does not know rather than hiding it', () => {
    const cell = { t: 'interval', v: '1 day' } as unknown as Cell
    expect(formatCell(cell)).toMatchObject({ kind: 'text', text: '1 day' })
  })
})

describe('cellDetail', () => {
  it('shows NULL as NULL, apart from any text, and copies nothing', () => {
    expect(cellDetail({ t: 'null' })).toMatchObject({ kind: 'null', body: 'NULL', copy: '' })
    expect(cellDetail({ t: 'text', v: 'NULL' })).toMatchObject({ kind: 'text', body: 'NULL', copy: 'NULL' })
  })

  it('keeps long text whole, line breaks included, with its length in characters and UTF-8 bytes', () => {
    const long = `${'x'.repeat(TEXT_SHOWN * 3)}\nend`
    expect(cellDetail({ t: 'text', v: long })).toMatchObject({ kind: 'text', body: long, copy: long, length: long.length })
    expect(cellDetail({ t: 'text', v: '数据🚀' })).toMatchObject({ length: 3, utf8Bytes: 10 })
  })

  it('indents JSON values, and text that holds an object or array', () => {
    expect(cellDetail({ t: 'json', v: { a: [1] } }).body).toBe('{\n  "a": [\n    1\n  ]\n}')
    expect(cellDetail({ t: 'text', v: ' [1,{"b":2}] ' })).toMatchObject({ kind: 'json', body: '[\n  1,\n  {\n    "b": 2\n  }\n]' })
    // A bare number or word is text unless the column is typed JSON.
    expect(cellDetail({ t: 'text', v: '42' }).kind).toBe('text')
    expect(cellDetail({ t: 'text', v: '42' }, 'jsonb').kind).toBe('json')
    expect(cellDetail({ t: 'text', v: '{not json' }).kind).toBe('text')
    // JSON in text keeps its digits too.
    expect(cellDetail({ t: 'text', v: '{"id":12345678901234567890123}' }).body).toBe('{\n  "id": 12345678901234567890123\n}')
  })

  it('shows bytes as a hex dump with offsets and ASCII, copies plain hex, and counts bytes', () => {
    const hex = '48656c6c6f00ff'.padEnd(40, 'a')
    const detail = cellDetail({ t: 'bytes', v: hex })
    expect(detail).toMatchObject({ kind: 'bytes', copy: hex, length: 20 })
    const lines = detail.body.split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^00000000 {2}48 65 6c 6c 6f 00 ff aa/)
    expect(lines[0]).toMatch(/ {2}Hello\.\.\.{9}$/)
    expect(lines[1]).toMatch(/^00000010 {2}aa aa aa aa {38}\.{4}$/)
    expect(hexDump('')).toBe('')
  })

  it('shows other values as the grid writes them', () => {
    expect(cellDetail({ t: 'decimal', v: '1.50' })).toMatchObject({ kind: 'value', body: '1.50' })
    expect(cellDetail({ t: 'timestamp', v: '2024-01-02T03:04:05' }).body).toBe('2024-01-02T03:04:05')
  })
})
