import { baseCompile } from '@intlify/message-compiler'
import type { MessageContext, MessageFunction } from 'vue-i18n'
import { describe, expect, it } from 'vitest'
import { compileMessage, parseMessage } from './compile'
import en from './en'
import zhCN from './zh-CN'

/** Every (key, message) of a locale's nested messages. */
function flatten(messages: object, prefix = ''): [string, string][] {
  return Object.entries(messages).flatMap(([k, v]): [string, string][] =>
    typeof v === 'string' ? [[prefix + k, v]] : flatten(v as object, `${prefix}${k}.`),
  )
}

/** A context that writes out what a message function asks for, so two can be compared. */
const probe = {
  normalize: (parts: unknown[]) => parts.map(String).join(''),
  interpolate: (v: unknown) => `«${String(v)}»`,
  named: (key: string) => `named:${key}`,
  list: (index: number) => `list:${index}`,
  plural: (cases: unknown[]) => cases.map(String).join(' ‖ '),
  linked: () => 'linked!',
} as unknown as MessageContext

/** vue-i18n's own compiler, as its full build uses it. */
function reference(message: string): MessageFunction {
  const { code } = baseCompile(message, { mode: 'arrow', jit: false })
  // What vue-i18n's full build does with the generated code (test-only: our own messages).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function(`return ${code}`) as () => MessageFunction
  return make()
}

describe('the message compiler', () => {
  const all = [...flatten(en), ...flatten(zhCN)]

  it('has messages to check', () => {
    expect(all.length).toBeGreaterThan(400)
  })

  it.each([
    ['en', en],
    ['zh-CN', zhCN],
  ])('compiles every %s message as vue-i18n does', (_name, messages) => {
    for (const [key, message] of flatten(messages)) {
      const ours = compileMessage(message, { key, locale: 'en' })
      expect.soft(ours(probe), key).toBe(reference(message)(probe))
    }
  })

  it('keeps text, placeholders, literals and plural cases apart', () => {
    expect(parseMessage("a {n} b {0} c{'@'}d")).toEqual([['a ', { named: 'n' }, ' b ', { list: 0 }, " c@d"]])
    expect(parseMessage('No rows | 1 row | {n} rows')).toEqual([['No rows'], ['1 row'], [{ named: 'n' }, ' rows']])
  })

  it('refuses a placeholder left open', () => {
    expect(() => parseMessage('a {n')).toThrow(SyntaxError)
  })
})
