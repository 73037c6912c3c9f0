import { describe, expect, it } from 'vitest'
import en from './en'
import { detectLocale } from './index'
import zhCN from './zh-CN'

function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  )
}

describe('locales', () => {
  it('prefers a remembered choice over the browser', () => {
    expect(detectLocale('zh-CN', ['en-US'])).toBe('zh-CN')
  })

  it('follows the browser on a first visit', () => {
    expect(detectLocale(null, ['zh-TW', 'en'])).toBe('zh-CN')
    expect(detectLocale(null, ['de-DE', 'en-GB'])).toBe('en')
    expect(detectLocale('fr', ['fr-FR'])).toBe('en')
  })

  it('translates every English message into Chinese', () => {
    expect(keys(zhCN)).toEqual(keys(en))
    const untranslated = keys(en).filter((k) => {
      const get = (o: object) => k.split('.').reduce<unknown>((acc, part) => (acc as Record<string, unknown>)[part], o)
      return get(en) === get(zhCN) && /[a-z]{4,}/.test(String(get(en))) && !/^(AutoDB|PostgreSQL|MySQL|MariaDB|Oracle|SQLite)$/.test(String(get(en)))
    })
    expect(untranslated).toEqual([])
  })
})
