// JSON text laid out again, compact for the grid or indented for the cell viewer, without
// ever reading its numbers into JavaScript numbers: a double would round an id beyond 2^53
// or a long decimal. Every string and number is copied exactly as written; only the space
// between them changes. The indented form is the one JSON.stringify(value, null, 2) writes.

// A string (escapes as JSON allows them, no raw control character), a number, a literal, or
// one punctuation mark.
// eslint-disable-next-line no-control-regex -- a JSON string may not hold U+0000–U+001F raw
const TOKEN = /[ \t\n\r]*(?:("(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([{}[\]:,]))/y
const TRAILING_SPACE = /[ \t\n\r]*$/y

/** What the next token may be. */
type Expect = 'value' | 'element' | 'element-or-close' | 'key' | 'key-or-close' | 'colon' | 'member' | 'after' | 'end'

/**
 * `text` laid out with `indent` spaces per level (0: compact), or null when it is not JSON.
 * One pass over the tokens with a stack of the open containers, so any depth is laid out.
 */
export function layoutJson(text: string, indent = 0): string | null {
  const tokens: string[] = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex
    const m = TOKEN.exec(text)
    if (!m) {
      // Only white space may follow the last token.
      TRAILING_SPACE.lastIndex = at
      TRAILING_SPACE.exec(text)
      if (TRAILING_SPACE.lastIndex !== text.length) return null
      break
    }
    tokens.push(m[1] ?? m[2] ?? m[3] ?? m[4]!)
  }
  const out: string[] = []
  const newline = (depth: number) => (indent ? `\n${' '.repeat(indent * depth)}` : '')
  // The closing marks of the containers open, innermost last.
  const open: string[] = []
  let expect: Expect = 'value'
  for (const token of tokens) {
    const close = open[open.length - 1]
    if ((expect === 'key-or-close' || expect === 'element-or-close') && token === close) {
      // An empty container.
      open.pop()
      out.push(token)
      expect = open.length ? 'after' : 'end'
      continue
    }
    if (expect === 'key-or-close') expect = 'key'
    if (expect === 'element-or-close') expect = 'element'
    if (expect === 'key') {
      if (!token.startsWith('"')) return null
      out.push(newline(open.length), token)
      expect = 'colon'
    } else if (expect === 'colon') {
      if (token !== ':') return null
      out.push(indent ? ': ' : ':')
      expect = 'member'
    } else if (expect === 'after') {
      if (token === ',') {
        out.push(',')
        expect = close === '}' ? 'key' : 'element'
      } else if (token === close) {
        open.pop()
        out.push(newline(open.length), token)
        expect = open.length ? 'after' : 'end'
      } else return null
    } else if (expect === 'end') {
      return null
    } else {
      // A value: the whole text's, an array element's (on a line of its own) or a member's.
      if (expect === 'element') out.push(newline(open.length))
      if (token === '{' || token === '[') {
        open.push(token === '{' ? '}' : ']')
        out.push(token)
        expect = token === '{' ? 'key-or-close' : 'element-or-close'
      } else if (/^[}\]:,]$/.test(token)) {
        return null
      } else {
        out.push(token)
        expect = open.length ? 'after' : 'end'
      }
    }
  }
  return expect === 'end' ? out.join('') : null
}

/**
 * The text of a JSON cell's value: the database's JSON text, as the server sends it, or, in
 * a result stored before it did, the parsed value it held then.
 */
export function jsonSource(v: unknown): string {
  if (typeof v === 'string') {
    try {
      JSON.parse(v)
      return v
    } catch {
      // Not JSON text: a string value stored before.
    }
  }
  return JSON.stringify(v) ?? 'null'
}
