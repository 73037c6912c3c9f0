import { describe, expect, it } from 'vitest'
import {
  codeOnly,
  dialectFor,
  formatterLanguage,
  hasProceduralBlock,
  statementAt,
  statementRanges,
  textToRun,
  toSchemaTree,
  buildSchemaTree,
  TREE_CHUNK,
} from './sqlEditor'

describe('statement at the cursor', () => {
  const two = 'SELECT 1;\nSELECT 2;'

  it('is the statement the cursor is in, the cursor just past a ; belonging to the one it ends', () => {
    expect(statementAt(two, 3)).toBe('SELECT 1;')
    expect(statementAt(two, 9)).toBe('SELECT 1;')
    expect(statementAt(two, 10)).toBe('SELECT 2;')
    expect(statementAt(two, two.length)).toBe('SELECT 2;')
  })

  it('on blanks or comments after the last statement is the statement before', () => {
    const text = 'SELECT 1;\nSELECT 2;\n\n-- done\n'
    expect(statementAt(text, text.length)).toBe('SELECT 2;')
    expect(statementAt('\n\nSELECT 3', 0)).toBe('SELECT 3')
    expect(statementAt('  -- nothing\n', 2)).toBe('')
    expect(statementAt('', 0)).toBe('')
  })

  it('does not cut on a ; inside quotes, comments or dollar quotes', () => {
    const text = "SELECT 'a;b', \"x;y\" -- c;d\n/* e;f */ FROM t;\nSELECT $$g;h$$, $fn$ i; $fn$;\nSELECT 3"
    expect(statementRanges(text, 'postgresql').map((r) => text.slice(r.from, r.to).trim())).toEqual([
      "SELECT 'a;b', \"x;y\" -- c;d\n/* e;f */ FROM t;",
      'SELECT $$g;h$$, $fn$ i; $fn$;',
      'SELECT 3',
    ])
    expect(statementAt(text, text.indexOf('$$g'), 'postgresql')).toBe('SELECT $$g;h$$, $fn$ i; $fn$;')
  })

  it("keeps a doubled quote inside the string, and MySQL's backslash escapes and # comments", () => {
    expect(statementRanges("SELECT 'it''s;'; SELECT 2")).toHaveLength(2)
    expect(statementRanges("SELECT 'a\\';b'; SELECT 2", 'mysql')).toHaveLength(2)
    // Without backslash escapes the quote ends at \' and the ; after it cuts.
    expect(statementAt("SELECT 'a\\';b'; SELECT 2", 0, 'postgresql')).toBe("SELECT 'a\\';")
    expect(statementAt("SELECT 'a\\';b'; SELECT 2", 0, 'mysql')).toBe("SELECT 'a\\';b';")
    expect(statementRanges('SELECT 1 # a;b\n; SELECT 2', 'mysql')).toHaveLength(2)
  })

  it('reads $1 as a parameter, not a dollar quote', () => {
    expect(statementRanges('SELECT $1; SELECT $2', 'postgresql')).toHaveLength(2)
  })

  it('runs the selection when there is one, whichever way it was made', () => {
    const text = 'SELECT 1; SELECT 2'
    expect(textToRun(text, 10, 18)).toBe('SELECT 2')
    expect(textToRun(text, 18, 10)).toBe('SELECT 2')
    expect(textToRun(text, 2, 2)).toBe('SELECT 1;')
  })
})

describe('procedural blocks', () => {
  it.each([
    'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql',
    'create or replace procedure p is begin null; end;',
    'CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN SELECT 1; END',
    'CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END;',
    'CREATE OR REPLACE PACKAGE BODY pkg AS END pkg;',
    "DO $$ BEGIN RAISE NOTICE 'x'; END $$;",
    'DECLARE n NUMBER; BEGIN SELECT 1 INTO n FROM dual; END;',
    'BEGIN\n  UPDATE t SET a = 1;\nEND;',
  ])('are found in %s', (sql) => {
    expect(hasProceduralBlock(sql)).toBe(true)
  })

  it.each([
    'SELECT 1',
    'BEGIN; UPDATE t SET a = 1; COMMIT;',
    'BEGIN TRANSACTION; DELETE FROM t; END;',
    "SELECT 'CREATE FUNCTION f' AS s, CASE WHEN a THEN 1 END FROM t -- DECLARE x",
    '/* BEGIN x END */ SELECT "declare" FROM t',
    'SELECT * FROM functions',
  ])('are not found in %s', (sql) => {
    expect(hasProceduralBlock(sql)).toBe(false)
  })

  it('blanks quoted and commented text but keeps the quote marks and positions', () => {
    const text = "SELECT 'a', $x$b$x$ -- c"
    const code = codeOnly(text)
    expect(code).toHaveLength(text.length)
    expect(code).toBe("SELECT ' ', $x$ $x$     ")
  })
})

describe('dialects', () => {
  it('is the one dialect all the targets speak, MariaDB apart from MySQL', () => {
    expect(dialectFor(['postgres', 'postgres'])).toBe('postgresql')
    expect(dialectFor(['mariadb'])).toBe('mariadb')
    expect(dialectFor(['oracle'])).toBe('oracle')
    expect(dialectFor(['mysql', 'sqlite'])).toBeNull()
    expect(dialectFor([])).toBeNull()
  })

  it("names sql-formatter's languages", () => {
    expect(formatterLanguage('oracle')).toBe('plsql')
    expect(formatterLanguage('sqlite')).toBe('sqlite')
    expect(formatterLanguage(null)).toBe('sql')
  })
})

describe('schema for completion', () => {
  it('puts tables under their schema with their columns', () => {
    expect(
      toSchemaTree({
        schemas: ['public', 'empty'],
        tables: [{ schema: 'public', name: 'users' }, { name: 'loose' }],
        columns: [
          { schema: 'public', table: 'users', name: 'id' },
          { schema: 'public', table: 'users', name: 'name' },
          { table: 'loose', name: 'x' },
        ],
      }),
    ).toEqual({ public: { users: ['id', 'name'] }, empty: {}, loose: ['x'] })
  })

  it('escapes a dot in a name and lists a column with its type', () => {
    expect(
      toSchemaTree({
        tables: [{ schema: 'my.app', name: 'a.b' }],
        columns: [{ schema: 'my.app', table: 'a.b', name: 'id', type: 'integer' }],
      }),
    ).toEqual({ 'my\\.app': { 'a\\.b': [{ label: 'id', type: 'property', detail: 'integer' }] } })
  })

  it('builds a large tree in chunks with pauses between them, the same tree as at once', async () => {
    const info = {
      schemas: ['s'],
      tables: Array.from({ length: 200 }, (_, t) => ({ schema: 's', name: `t${t}` })),
      columns: Array.from({ length: 20_000 }, (_, i) => ({ schema: 's', table: `t${i % 200}`, name: `c${i}` })),
    }
    let pauses = 0
    const tree = await buildSchemaTree(info, () => {
      pauses++
      return Promise.resolve()
    })
    expect(pauses).toBe(Math.floor((20_000 + 200) / TREE_CHUNK))
    expect(tree).toEqual(toSchemaTree(info))
    expect(await buildSchemaTree(info)).toBe(tree)
  })
})
