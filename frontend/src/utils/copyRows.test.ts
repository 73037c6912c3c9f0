import { describe, expect, it } from 'vitest'
import type { Cell, ResultColumn } from '@/api/types'
import { formatRows, jsonValue, quoteIdent, quoteString, sqlLiteral, toCsv, toInserts, toJson, toTsv, uniqueNames } from './copyRows'

const cols = (...names: string[]): ResultColumn[] => names.map((name) => ({ name, type: 'text' }))
const text = (v: string): Cell => ({ t: 'text', v })
const NULL: Cell = { t: 'null' }

describe('toTsv', () => {
  it('writes a header and one tab-separated line per row, NULL and the empty string as empty fields', () => {
    const out = toTsv(cols('id', 'name', 'note'), [
      [{ t: 'int', v: 1 }, text('a'), NULL],
      [{ t: 'int', v: 2 }, text(''), { t: 'bytes', v: 'beef' }],
    ])
    expect(out).toBe('id\tname\tnote\n1\ta\t\n2\t\tbeef\n')
  })

  it('quotes a value holding a tab, a line break or a quote, so a spreadsheet pastes it into one cell', () => {
    const out = toTsv(cols('v'), [[text('a\tb')], [text('one\ntwo')], [text('say "hi"')], [text('crlf\r\n')]], false)
    expect(out).toBe('"a\tb"\n"one\ntwo"\n"say ""hi"""\n"crlf\r\n"\n')
  })

  it('keeps unicode as it is', () => {
    expect(toTsv(cols('名字'), [[text('数据库 🚀 é')]])).toBe('名字\n数据库 🚀 é\n')
  })

  it('puts a quote before text a spreadsheet would run as a formula, never before typed numbers', () => {
    const out = toTsv(cols('=x'), [[text('=HYPERLINK("http://evil")')], [text('-5')], [{ t: 'int', v: -5 }], [{ t: 'decimal', v: '-1.5' }]])
    expect(out).toBe(`'=x\n"'=HYPERLINK(""http://evil"")"\n'-5\n-5\n-1.5\n`)
  })

  it('can leave the header out', () => {
    expect(toTsv(cols('a', 'b'), [[text('x'), text('y')]], false)).toBe('x\ty\n')
  })
})

describe('toCsv', () => {
  it('writes RFC 4180 with CRLF: NULL an empty unquoted field, the empty string "" (as the export)', () => {
    const out = toCsv(cols('id', 'name', 'note'), [
      [{ t: 'int', v: 1 }, text('a'), NULL],
      [{ t: 'int', v: 2 }, text(''), { t: 'bytes', v: 'beef' }],
    ])
    expect(out).toBe('id,name,note\r\n1,a,\r\n2,"",beef\r\n')
  })

  it('quotes commas, quotes and line breaks, doubling the quotes', () => {
    const out = toCsv(cols('v'), [[text('a,b')], [text('5" pipe')], [text('l1\nl2')], [text('plain')]], false)
    expect(out).toBe('"a,b"\r\n"5"" pipe"\r\n"l1\nl2"\r\nplain\r\n')
  })

  it('quotes text guarded against formulas, as the export does, never typed numbers', () => {
    const out = toCsv(cols('+n'), [[text('@SUM(A1)')], [text('-5')], [{ t: 'int', v: -5 }]])
    expect(out).toBe(`"'+n"\r\n"'@SUM(A1)"\r\n"'-5"\r\n-5\r\n`)
  })

  it('writes JSON as the database wrote it (compact, from a result stored before) and booleans as words', () => {
    const out = toCsv(cols('j', 'b'), [[{ t: 'json', v: { a: [1, 'x'] } }, { t: 'bool', v: true }]], false)
    expect(out).toBe('"{""a"":[1,""x""]}",true\r\n')
    expect(toCsv(cols('j'), [[{ t: 'json', v: '{"id": 12345678901234567890123}' }]], false)).toBe(
      '"{""id"": 12345678901234567890123}"\r\n',
    )
  })
})

describe('toJson', () => {
  it('writes an array of objects keyed by column name, typed', () => {
    const rows: Cell[][] = [[{ t: 'int', v: 1 }, text('a'), NULL, { t: 'bool', v: false }, { t: 'json', v: { k: [1, null] } }]]
    expect(JSON.parse(toJson(cols('id', 'name', 'note', 'ok', 'doc'), rows))).toEqual([
      { id: 1, name: 'a', note: null, ok: false, doc: { k: [1, null] } },
    ])
    // Laid out as JSON.stringify(rows, null, 2) lays it out.
    const objects = [{ id: 1, name: 'a', note: null, ok: false, doc: { k: [1, null] } }]
    expect(toJson(cols('id', 'name', 'note', 'ok', 'doc'), rows)).toBe(JSON.stringify(objects, null, 2) + '\n')
    expect(toJson(cols('a'), [])).toBe('[]\n')
    expect(toJson([], [[]])).toBe(JSON.stringify([{}], null, 2) + '\n')
  })

  it("writes a JSON cell's own text, indented in place, so an id beyond 2^53 keeps its digits", () => {
    const doc: Cell = { t: 'json', v: '{"id": 12345678901234567890123, "tags": ["a"]}' }
    expect(toJson(cols('n', 'doc'), [[{ t: 'int', v: 1 }, doc]])).toBe(
      '[\n  {\n    "n": 1,\n    "doc": {\n      "id": 12345678901234567890123,\n      "tags": [\n        "a"\n      ]\n    }\n  }\n]\n',
    )
  })

  it('keeps decimals and integers beyond 2^53 as strings, so no digit is lost', () => {
    expect(jsonValue({ t: 'decimal', v: '12345678901234567890.0123456789' })).toBe('12345678901234567890.0123456789')
    expect(jsonValue({ t: 'int', v: 9007199254740991 })).toBe(9007199254740991)
    expect(jsonValue({ t: 'int', v: 2 ** 60 })).toBe(String(2 ** 60))
    // As the server sends them: the exact digits in a string.
    expect(jsonValue({ t: 'int', v: '9007199254740993' })).toBe('9007199254740993')
    expect(jsonValue({ t: 'float', v: 1.5 })).toBe(1.5)
    expect(jsonValue({ t: 'bytes', v: '00ff' })).toBe('00ff')
    expect(jsonValue({ t: 'timestamp_tz', v: '2024-01-02T01:04:05+00:00' })).toBe('2024-01-02T01:04:05+00:00')
  })

  it('gives columns that share a name distinct keys', () => {
    expect(uniqueNames(cols('a', 'a', 'a_2', 'b'))).toEqual(['a', 'a_2', 'a_2_2', 'b'])
    expect(JSON.parse(toJson(cols('a', 'a'), [[text('x'), text('y')]]))).toEqual([{ a: 'x', a_2: 'y' }])
  })

  it('writes an empty array for no rows', () => {
    expect(JSON.parse(toJson(cols('a'), []))).toEqual([])
  })
})

describe('SQL literals', () => {
  it('quotes identifiers per dialect, doubling the quote', () => {
    expect(quoteIdent('my "col"', 'postgres')).toBe('"my ""col"""')
    expect(quoteIdent('ID', 'oracle')).toBe('"ID"')
    expect(quoteIdent('we`ird', 'mysql')).toBe('`we``ird`')
    expect(quoteIdent('x', 'sqlite')).toBe('"x"')
  })

  it("doubles single quotes, and backslashes only in MySQL (which reads them as escapes)", () => {
    expect(quoteString("O'Brien \\n", 'postgres')).toBe("'O''Brien \\n'")
    expect(quoteString("O'Brien \\n", 'sqlite')).toBe("'O''Brien \\n'")
    expect(quoteString("O'Brien \\n", 'mysql')).toBe("'O''Brien \\\\n'")
    expect(quoteString('数据\n🚀', 'oracle')).toBe("'数据\n🚀'")
  })

  it('writes NULL, numbers unquoted and booleans per dialect', () => {
    expect(sqlLiteral(NULL, 'oracle')).toBe('NULL')
    expect(sqlLiteral({ t: 'int', v: -42 }, 'postgres')).toBe('-42')
    expect(sqlLiteral({ t: 'int', v: '-9223372036854775808' }, 'postgres')).toBe('-9223372036854775808')
    expect(sqlLiteral({ t: 'decimal', v: '12345678901234567890.01' }, 'mysql')).toBe('12345678901234567890.01')
    expect(sqlLiteral({ t: 'float', v: 0.25 }, 'sqlite')).toBe('0.25')
    expect(sqlLiteral({ t: 'bool', v: true }, 'postgres')).toBe('TRUE')
    expect(sqlLiteral({ t: 'bool', v: false }, 'mysql')).toBe('FALSE')
    expect(sqlLiteral({ t: 'bool', v: true }, 'sqlite')).toBe('1')
  })

  it("writes bytes as each dialect's hex literal", () => {
    const bytes: Cell = { t: 'bytes', v: '00beef' }
    expect(sqlLiteral(bytes, 'postgres')).toBe("'\\x00beef'::bytea")
    expect(sqlLiteral(bytes, 'mysql')).toBe("X'00beef'")
    expect(sqlLiteral(bytes, 'sqlite')).toBe("X'00beef'")
    expect(sqlLiteral(bytes, 'oracle')).toBe("HEXTORAW('00beef')")
  })

  it('writes times as strings, and as ANSI literals in Oracle (independent of NLS_DATE_FORMAT)', () => {
    expect(sqlLiteral({ t: 'timestamp', v: '2024-01-02T03:04:05.123456' }, 'postgres')).toBe("'2024-01-02T03:04:05.123456'")
    expect(sqlLiteral({ t: 'date', v: '2024-02-29' }, 'oracle')).toBe("DATE '2024-02-29'")
    expect(sqlLiteral({ t: 'timestamp', v: '2024-01-02T03:04:05' }, 'oracle')).toBe("TIMESTAMP '2024-01-02 03:04:05'")
    expect(sqlLiteral({ t: 'timestamp_tz', v: '2024-01-02T01:04:05+08:00' }, 'oracle')).toBe("TIMESTAMP '2024-01-02 01:04:05 +08:00'")
  })

  it('writes JSON as a string literal of its compact text', () => {
    expect(sqlLiteral({ t: 'json', v: { name: "it's" } }, 'postgres')).toBe(`'{"name":"it''s"}'`)
    expect(sqlLiteral({ t: 'json', v: '{"name": "it\'s", "id": 12345678901234567890123}' }, 'postgres')).toBe(
      `'{"name": "it''s", "id": 12345678901234567890123}'`,
    )
  })
})

describe('toInserts', () => {
  const columns: ResultColumn[] = [
    { name: 'id', type: 'INTEGER' },
    { name: 'name', type: 'TEXT' },
    { name: 'data', type: 'BLOB' },
  ]
  const rows: Cell[][] = [
    [{ t: 'int', v: 1 }, text("it's"), NULL],
    [{ t: 'int', v: 2 }, text(''), { t: 'bytes', v: 'beef' }],
  ]

  it('writes one INSERT per row into the placeholder table unless one is given', () => {
    expect(toInserts(columns, rows, 'sqlite')).toBe(
      `INSERT INTO table_name ("id", "name", "data") VALUES (1, 'it''s', NULL);\n` +
        `INSERT INTO table_name ("id", "name", "data") VALUES (2, '', X'beef');\n`,
    )
    expect(toInserts(columns, rows.slice(0, 1), 'mysql', ' hr.people ')).toBe(
      "INSERT INTO hr.people (`id`, `name`, `data`) VALUES (1, 'it''s', NULL);\n",
    )
    expect(toInserts(columns, rows.slice(1), 'postgres', '  ')).toContain("INSERT INTO table_name (\"id\", \"name\", \"data\") VALUES (2, '', '\\xbeef'::bytea);")
  })

  it('writes nothing for no rows', () => {
    expect(toInserts(columns, [], 'oracle')).toBe('')
  })

  it('formatRows chooses the format and passes the options', () => {
    expect(formatRows('tsv', cols('a'), [[text('x')]], { header: false })).toBe('x\n')
    expect(formatRows('insert', cols('a'), [[text('x')]], { dialect: 'oracle', table: 'T' })).toBe(`INSERT INTO T ("a") VALUES ('x');\n`)
  })
})
