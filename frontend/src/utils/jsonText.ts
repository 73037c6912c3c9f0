// JSON text laid out again, compact for the grid or indented for the cell viewer, without
// ever reading its numbers into JavaScript numbers: a double would round an id beyond 2^53
// or a long decimal. Every string and number is copied exactly as written; only the space
// between them changes. The indented form is the one JSON.stringify(value, null, 2) writes.

/** Nesting deeper than this is not laid out here (the caller falls back to JSON.parse). */
const MAX_DEPTH = 512

// A string (escapes as JSON allows them, no raw control character), a number, a literal, or
// one punctuation mark.
// eslint-disable-next-line no-control-regex -- a JSON string may not hold U+0000–U+001F raw
const TOKEN = /[ \t\n\r]*(?:("(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([{}[\]:,]))/y
const TRAILING_SPACE = /[ \t\n\r]*$/y

/** `text` laid out with `indent` spaces per level (0: compact), or null when it is not JSON. */
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
  let next = 0
  const out: string[] = []
  const newline = (depth: number) => (indent ? `\n${' '.repeat(indent * depth)}` : '')

  // One value at `depth`; false when the tokens do not make one.
  function value(depth: number): boolean {
    if (depth > MAX_DEPTH) return false
    const token = tokens[next++]
    if (token === undefined || token === ':' || token === ',' || token === '}' || token === ']') return false
    if (token !== '{' && token !== '[') {
      out.push(token)
      return true
    }
    const close = token === '{' ? '}' : ']'
    out.push(token)
    if (tokens[next] === close) {
      next++
      out.push(close)
      return true
    }
    for (;;) {
      out.push(newline(depth + 1))
      if (close === '}') {
        const key = tokens[next++]
        if (!key?.startsWith('"') || tokens[next++] !== ':') return false
        out.push(key, indent ? ': ' : ':')
      }
      if (!value(depth + 1)) return false
      const after = tokens[next++]
      if (after === close) break
      if (after !== ',') return false
      out.push(',')
    }
    out.push(newline(depth), close)
    return true
  }

  if (!value(0) || next !== tokens.length) return null
  return out.join('')
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
