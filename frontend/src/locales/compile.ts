// A small message compiler for vue-i18n, in place of its full one (a tenth of the login
// page's JavaScript, see vite.config.ts `__INTLIFY_DROP_MESSAGE_COMPILER__`). It knows the
// syntax AutoDB's messages use: text, `{name}` and `{0}` placeholders, `{'@'}` literals,
// and plural cases split by `|`. compile.test.ts checks that every message of every
// language compiles to what vue-i18n's own compiler makes of it.
import type { MessageCompiler, MessageFunction } from 'vue-i18n'

type Part = string | { named: string } | { list: number }

/** A message's plural cases (one when it has no `|`), each a list of parts. */
export function parseMessage(message: string): Part[][] {
  const cases: Part[][] = []
  let parts: Part[] = []
  let text = ''
  const flush = () => {
    if (text) parts.push(text)
    text = ''
  }
  for (let i = 0; i < message.length; i++) {
    const c = message[i]
    if (c === '{') {
      const end = message.indexOf('}', i)
      if (end < 0) throw new SyntaxError(`unclosed placeholder in message: ${message}`)
      const inner = message.slice(i + 1, end).trim()
      const literal = /^'(.*)'$/.exec(inner)
      if (literal) text += literal[1]
      else {
        flush()
        parts.push(/^\d+$/.test(inner) ? { list: Number(inner) } : { named: inner })
      }
      i = end
    } else if (c === '|') {
      flush()
      cases.push(parts)
      parts = []
    } else text += c
  }
  flush()
  cases.push(parts)
  if (cases.length === 1) return cases
  // Around a `|` the spaces separate cases; they are not part of them.
  return cases.map((cs, n) =>
    cs
      .map((p, k) => {
        if (typeof p !== 'string') return p
        let s = p
        if (k === 0 && n > 0) s = s.trimStart()
        if (k === cs.length - 1 && n < cases.length - 1) s = s.trimEnd()
        return s
      })
      .filter((p) => p !== ''),
  )
}

/** What vue-i18n hands a compiled message (its generated code calls the same functions). */
interface Context {
  normalize(values: unknown[]): unknown
  interpolate(value: unknown): unknown
  named(key: string): unknown
  list(index: number): unknown
  plural(cases: unknown[]): unknown
}

function render(ctx: Context, parts: Part[]): unknown {
  return ctx.normalize(
    parts.map((p) =>
      typeof p === 'string' ? p : ctx.interpolate('list' in p ? ctx.list(p.list) : ctx.named(p.named)),
    ),
  )
}

export const compileMessage: MessageCompiler = (message) => {
  if (typeof message !== 'string') throw new TypeError('precompiled messages are not used here')
  const cases = parseMessage(message)
  const [only] = cases
  const fn = (ctx: Context) =>
    cases.length === 1 && only ? render(ctx, only) : ctx.plural(cases.map((c) => render(ctx, c)))
  return fn as unknown as MessageFunction
}
