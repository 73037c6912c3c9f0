// The SQL editor's rules, kept apart from CodeMirror so they are unit-tested:
// which dialect a set of targets speaks, where the statement under the cursor
// starts and ends, which text the formatter must not touch, and the schema
// (from a provider) in the shape lang-sql completes from.
import type { EngineFlavour } from './engines'

/** The SQL dialects the editor highlights, completes and formats. */
export type SqlDialect = 'postgresql' | 'mysql' | 'mariadb' | 'oracle' | 'sqlite'

const DIALECT_OF: Record<EngineFlavour, SqlDialect> = {
  postgres: 'postgresql',
  mysql: 'mysql',
  mariadb: 'mariadb',
  oracle: 'oracle',
  sqlite: 'sqlite',
}

/** The one dialect all the targets speak, or null (generic SQL) when none or several. */
export function dialectFor(flavours: readonly EngineFlavour[]): SqlDialect | null {
  const dialects = new Set(flavours.map((f) => DIALECT_OF[f]))
  return dialects.size === 1 ? [...dialects][0]! : null
}

/** sql-formatter's name for each dialect; generic SQL without one. */
export function formatterLanguage(dialect: SqlDialect | null): 'postgresql' | 'mysql' | 'mariadb' | 'plsql' | 'sqlite' | 'sql' {
  if (dialect === null) return 'sql'
  return dialect === 'oracle' ? 'plsql' : dialect
}

/** One statement of a script: [from, to) in the text, `to` past its `;` when it has one. */
export interface StatementRange {
  from: number
  to: number
  /** False when the piece holds only blanks and comments. */
  hasCode: boolean
}

const MYSQL_LIKE = new Set<SqlDialect | null>(['mysql', 'mariadb'])

/**
 * Cuts the text on `;` outside quotes ('…', "…", `…`), comments (--, #, /* *\/) and
 * PostgreSQL dollar quotes ($$…$$, $tag$…$tag$). A BEGIN…END body is cut at its
 * inner `;` too: the server's splitter knows the engines' block rules, this does not.
 */
export function statementRanges(text: string, dialect: SqlDialect | null = null): StatementRange[] {
  const ranges: StatementRange[] = []
  const backslashEscapes = MYSQL_LIKE.has(dialect)
  const hashComments = MYSQL_LIKE.has(dialect)
  let from = 0
  let hasCode = false
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    const next = text[i + 1]
    if (c === '-' && next === '-') {
      i = lineEnd(text, i)
    } else if (c === '#' && hashComments) {
      i = lineEnd(text, i)
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 2
    } else if (c === "'" || c === '"' || c === '`') {
      hasCode = true
      i = quoteEnd(text, i, c, backslashEscapes && c !== '`')
    } else if (c === '$' && dollarTag(text, i) !== null) {
      hasCode = true
      const tag = dollarTag(text, i)!
      const end = text.indexOf(tag, i + tag.length)
      i = end < 0 ? text.length : end + tag.length
    } else if (c === ';') {
      i++
      ranges.push({ from, to: i, hasCode })
      from = i
      hasCode = false
    } else {
      if (!/\s/.test(c)) hasCode = true
      i++
    }
  }
  if (from < text.length || ranges.length === 0) ranges.push({ from, to: text.length, hasCode })
  return ranges
}

function lineEnd(text: string, i: number): number {
  const end = text.indexOf('\n', i)
  return end < 0 ? text.length : end
}

/** The index past the quote opened at `i`; a doubled quote (and a backslash, when escapes apply) stays inside. */
function quoteEnd(text: string, i: number, quote: string, backslash: boolean): number {
  let j = i + 1
  while (j < text.length) {
    const c = text[j]
    if (backslash && c === '\\') {
      j += 2
    } else if (c === quote) {
      if (text[j + 1] !== quote) return j + 1
      j += 2
    } else {
      j++
    }
  }
  return text.length
}

/** `$$` or `$tag$` starting at `i` (not `$1`, a parameter), else null. */
function dollarTag(text: string, i: number): string | null {
  if (i > 0 && /[\w$]/.test(text[i - 1]!)) return null
  const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 66))
  return m ? m[0] : null
}

/**
 * The statement the cursor is in. A cursor just past a `;` belongs to the statement it
 * ends; one on blanks or comments between statements to the nearest statement before it
 * (else after it). Empty when the text holds no statement.
 */
export function statementAt(text: string, pos: number, dialect: SqlDialect | null = null): string {
  const ranges = statementRanges(text, dialect)
  let index = ranges.findIndex((r) => pos >= r.from && pos <= r.to)
  if (index < 0) index = ranges.length - 1
  let chosen: StatementRange | undefined
  for (let i = index; i >= 0 && !chosen; i--) if (ranges[i]!.hasCode) chosen = ranges[i]
  for (let i = index + 1; i < ranges.length && !chosen; i++) if (ranges[i]!.hasCode) chosen = ranges[i]
  return chosen ? text.slice(chosen.from, chosen.to).trim() : ''
}

/** What Ctrl/Cmd+Enter runs: the selection when there is one, else the statement at the cursor. */
export function textToRun(text: string, from: number, to: number, dialect: SqlDialect | null = null): string {
  if (from !== to) return text.slice(Math.min(from, to), Math.max(from, to)).trim()
  return statementAt(text, from, dialect)
}

/** The text with quoted and commented parts blanked (their quote marks kept), for keyword checks. */
export function codeOnly(text: string, dialect: SqlDialect | null = null): string {
  const hashComments = MYSQL_LIKE.has(dialect)
  const backslashEscapes = MYSQL_LIKE.has(dialect)
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    const next = text[i + 1]
    let end: number
    if ((c === '-' && next === '-') || (c === '#' && hashComments)) {
      end = lineEnd(text, i)
      out += ' '.repeat(end - i)
    } else if (c === '/' && next === '*') {
      const close = text.indexOf('*/', i + 2)
      end = close < 0 ? text.length : close + 2
      out += ' '.repeat(end - i)
    } else if (c === "'" || c === '"' || c === '`') {
      end = quoteEnd(text, i, c, backslashEscapes && c !== '`')
      out += c + ' '.repeat(Math.max(0, end - i - 2)) + (end - i > 1 ? c : '')
    } else if (c === '$' && dollarTag(text, i) !== null) {
      const tag = dollarTag(text, i)!
      const close = text.indexOf(tag, i + tag.length)
      end = close < 0 ? text.length : close + tag.length
      out += tag + ' '.repeat(Math.max(0, end - i - 2 * tag.length)) + (close < 0 ? '' : tag)
    } else {
      end = i + 1
      out += c
    }
    i = end
  }
  return out
}

const PROCEDURAL = [
  // CREATE [OR REPLACE] [DEFINER = …] [EDITIONABLE] FUNCTION | PROCEDURE | TRIGGER | PACKAGE [BODY]
  /\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:(?:NON)?EDITIONABLE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:FUNCTION|PROCEDURE|TRIGGER|PACKAGE)\b/i,
  // PostgreSQL's anonymous block.
  /\bDO\s+(?:LANGUAGE\s+\w+\s+)?(?:\$|')/i,
  /\bDECLARE\b/i,
  // BEGIN … END, but not BEGIN; / BEGIN TRANSACTION / BEGIN WORK (a transaction, not a block).
  /\bBEGIN\b(?!\s*(?:;|$|TRANSACTION\b|WORK\b|DEFERRED\b|IMMEDIATE\b|EXCLUSIVE\b|ISOLATION\b|READ\b))[\s\S]*\bEND\b/i,
]

/**
 * Whether the text holds a procedural block (a function, procedure, trigger or package,
 * a DO block, BEGIN…END, DECLARE) that the formatter would mangle. Words inside strings
 * and comments do not count.
 */
export function hasProceduralBlock(text: string, dialect: SqlDialect | null = null): boolean {
  const code = codeOnly(text, dialect)
  return PROCEDURAL.some((re) => re.test(code))
}

/** What a schema provider answers: the names the editor completes. */
export interface SchemaInfo {
  schemas?: string[]
  /** The schema whose tables complete without their schema's name (PostgreSQL's `public`, the MySQL database). */
  defaultSchema?: string
  tables: { schema?: string; name: string; kind?: 'table' | 'view' }[]
  columns: { schema?: string; table: string; name: string; type?: string }[]
}

/**
 * Asked for the schema when the editor first needs it (focus, or a completion), and again
 * when the provider changes (another target). An equal provider is not asked twice.
 */
export type SchemaProvider = (ctx: { dialect: SqlDialect | null }) => Promise<SchemaInfo>

/** A column as lang-sql lists it: its name, with its type beside it. */
export interface ColumnCompletion {
  label: string
  type: 'property'
  detail?: string
}

/** lang-sql's `schema` option: tables (under their schema when they have one) mapped to their columns. */
export type SchemaTree = { [name: string]: SchemaTree | (string | ColumnCompletion)[] }

/** What the editor hands lang-sql: the tree, and the schema unqualified names resolve in. */
export interface EditorSchema {
  tree: SchemaTree
  defaultSchema?: string
}

/** lang-sql reads a `.` in a key as a path step: a name holding one is escaped. */
function treeKey(name: string): string {
  return name.replace(/\./g, '\\.')
}

type Columns = (string | ColumnCompletion)[]

function column(c: SchemaInfo['columns'][number]): string | ColumnCompletion {
  return c.type ? { label: c.name, type: 'property', detail: c.type } : c.name
}

const pairKey = (schema: string | undefined, table: string) => `${schema ?? ''}\u0000${table}`

function addTable(tree: SchemaTree, t: SchemaInfo['tables'][number], cols: Columns): void {
  if (t.schema === undefined) {
    tree[treeKey(t.name)] = cols
    return
  }
  const key = treeKey(t.schema)
  const level = tree[key]
  const schema: SchemaTree = level && !Array.isArray(level) ? level : {}
  schema[treeKey(t.name)] = cols
  tree[key] = schema
}

export function toSchemaTree(info: SchemaInfo): SchemaTree {
  const tree: SchemaTree = {}
  const columns = new Map<string, Columns>()
  for (const c of info.columns) {
    const list = columns.get(pairKey(c.schema, c.table)) ?? []
    list.push(column(c))
    columns.set(pairKey(c.schema, c.table), list)
  }
  for (const s of info.schemas ?? []) tree[treeKey(s)] ??= {}
  for (const t of info.tables) addTable(tree, t, columns.get(pairKey(t.schema, t.name)) ?? [])
  return tree
}

/** Lets the page breathe between two pieces of work: an idle moment, or the next task. */
export type Pause = () => Promise<void>

export const idlePause: Pause = () =>
  new Promise((resolve) => {
    const idle = (globalThis as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => number }).requestIdleCallback
    if (typeof idle === 'function') idle(() => resolve(), { timeout: 100 })
    else setTimeout(resolve, 0)
  })

/** Names handled between two pauses while a tree is built. */
export const TREE_CHUNK = 2000

const built = new WeakMap<SchemaInfo, Promise<SchemaTree>>()

/**
 * The same tree as {@link toSchemaTree}, built in chunks of {@link TREE_CHUNK} names with a
 * pause between them, so a catalog of 20,000 columns never holds the page in one long task.
 * One build per `info`, however many editors ask.
 */
export function buildSchemaTree(info: SchemaInfo, pause: Pause = idlePause): Promise<SchemaTree> {
  const known = built.get(info)
  if (known) return known
  const building = (async () => {
    const tree: SchemaTree = {}
    const columns = new Map<string, Columns>()
    let done = 0
    const step = async () => {
      if (++done % TREE_CHUNK === 0) await pause()
    }
    for (const c of info.columns) {
      const key = pairKey(c.schema, c.table)
      const list = columns.get(key)
      if (list) list.push(column(c))
      else columns.set(key, [column(c)])
      await step()
    }
    for (const s of info.schemas ?? []) tree[treeKey(s)] ??= {}
    for (const t of info.tables) {
      addTable(tree, t, columns.get(pairKey(t.schema, t.name)) ?? [])
      await step()
    }
    return tree
  })()
  built.set(info, building)
  building.catch(() => built.delete(info))
  return building
}
