// A server refusal in a language other than English: the server names its message by `reason`
// with `params` (ErrorBody); the catalogue (locales/server.zh-CN.ts) and this function load with
// the language (zh-CN-bundle.ts → locales' localizeServer, which the transport calls). In
// English, and for a reason the UI does not know (a newer server), the server's own `message`
// is shown.
import { i18n } from '@/locales'

type Params = Record<string, unknown>

/** Param values that are themselves codes, put in words. */
function words(reason: string, params: Params): Record<string, string> {
  const g = i18n.global
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(params)) {
    const raw = typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value)
    const key = (() => {
      switch (name) {
        case 'what':
          return `serverErrors.things.${raw.replace(/ /g, '_')}`
        case 'action':
          return `serverErrors.actions.${raw}`
        case 'role':
        case 'needed':
          return `roles.${raw}`
        case 'status':
          return reason.startsWith('grant') ? `grantStatus.${raw}` : `jobStatus.${raw}`
        default:
          return ''
      }
    })()
    out[name] = key && g.te(key) ? g.t(key) : raw
  }
  return out
}

/** The message of `reason` in the current language, or null when it is not catalogued. */
export function serverText(reason: string | null | undefined, params: Params = {}): string | null {
  if (!reason) return null
  const key = `serverErrors.reasons.${reason}`
  if (!i18n.global.te(key)) return null
  return i18n.global.t(key, words(reason, params))
}
