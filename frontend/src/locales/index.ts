// vue-i18n setup: the chosen language is remembered in localStorage; the first
// visit follows the browser's languages. English is built in; another language's
// messages load when it is first chosen (or found at start, before the app mounts).
import type { NDateLocale, NLocale } from 'naive-ui'
import { shallowReactive } from 'vue'
import { createI18n } from 'vue-i18n'
import { compileMessage } from './compile'
import en from './en'

export type MessageSchema = typeof en

export const LOCALES = ['en', 'zh-CN'] as const
export type Locale = (typeof LOCALES)[number]

/** Names shown in the language switch, each in its own language. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', 'zh-CN': '简体中文' }

export const LOCALE_STORAGE_KEY = 'autodb.locale'

function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value)
}

/** A stored choice wins; otherwise the first browser language we support; else English. */
export function detectLocale(stored: string | null, browserLanguages: readonly string[]): Locale {
  if (isLocale(stored)) return stored
  for (const lang of browserLanguages) {
    const lower = lang.toLowerCase()
    if (lower.startsWith('zh')) return 'zh-CN'
    if (lower.startsWith('en')) return 'en'
  }
  return 'en'
}

function readStored(): string | null {
  try {
    return localStorage.getItem(LOCALE_STORAGE_KEY)
  } catch {
    return null // storage disabled (privacy mode): fall back to the browser
  }
}

const initial: Locale = detectLocale(
  readStored(),
  typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]),
)

export const i18n = createI18n<[MessageSchema], Locale, false>({
  legacy: false,
  locale: 'en',
  fallbackLocale: 'en',
  messages: { en } as Record<Locale, MessageSchema>,
  // vue-i18n's own compiler is left out of the build (vite.config.ts); see compile.ts.
  messageCompiler: compileMessage,
})

/** naive-ui's strings per loaded language; none for English, naive-ui's default. */
export const naiveLocales = shallowReactive<Partial<Record<Locale, { locale: NLocale; dateLocale: NDateLocale }>>>({})

const bundles: Record<Exclude<Locale, 'en'>, () => Promise<{ default: LocaleBundle }>> = {
  'zh-CN': () => import('./zh-CN-bundle'),
}
/** A server refusal (ErrorBody reason and params) in a language, or null if not catalogued. */
export type ServerText = (reason: string, params: Record<string, unknown>) => string | null
interface LocaleBundle {
  messages: MessageSchema
  locale: NLocale
  dateLocale: NDateLocale
  serverText: ServerText
}
const serverTexts: Partial<Record<Locale, ServerText>> = {}

/**
 * A server refusal in the current language: null in English (the server's own `message` is
 * English) and for a reason the language's catalogue does not know.
 */
export function localizeServer(reason: string | null | undefined, params: Record<string, unknown>): string | null {
  if (!reason) return null
  return serverTexts[i18n.global.locale.value]?.(reason, params) ?? null
}
const loading = new Map<Locale, Promise<void>>()

/** Loads a language's messages once (English is always there). */
export function loadLocale(locale: Locale): Promise<void> {
  if (locale === 'en') return Promise.resolve()
  let done = loading.get(locale)
  if (!done) {
    done = bundles[locale]().then(({ default: bundle }) => {
      i18n.global.setLocaleMessage(locale, bundle.messages)
      naiveLocales[locale] = { locale: bundle.locale, dateLocale: bundle.dateLocale }
      serverTexts[locale] = bundle.serverText
    })
    // A failed load (network) may be tried again by the next choice.
    done.catch(() => loading.delete(locale))
    loading.set(locale, done)
  }
  return done
}

/** The language found at start, its messages loaded (English until they are). */
export async function startLocale(): Promise<void> {
  try {
    await loadLocale(initial)
  } catch {
    return // English it is: the page works, in the fallback language
  }
  applyLocale(initial)
}

if (typeof document !== 'undefined') document.documentElement.lang = 'en'

export function currentLocale(): Locale {
  return i18n.global.locale.value
}

function applyLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
}

/** Switches the language (once its messages are loaded) and remembers the choice. */
export async function setLocale(locale: Locale): Promise<void> {
  await loadLocale(locale)
  applyLocale(locale)
  try {
    localStorage.setItem(LOCALE_STORAGE_KEY, locale)
  } catch {
    // Not remembered, but the switch still applies to this page.
  }
}

/** Translate outside components (stores, router hooks, the transport's toasts). */
export const t = i18n.global.t
