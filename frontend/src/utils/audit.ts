// An audit entry's action and object for people: translated, the object by its name, and
// where the UI shows it.
import type { RouteLocationRaw } from 'vue-router'
import type { AuditEntry } from '@/api/types'
import { i18n } from '@/locales'
import { RouteName } from '@/router/names'

function inWords(group: 'actions' | 'objects', code: string): string {
  const key = `audit.${group}.${code}`
  return i18n.global.te(key) ? i18n.global.t(key) : code
}

export function auditAction(e: Pick<AuditEntry, 'action'>): string {
  return inWords('actions', e.action)
}

export interface AuditObject {
  /** `Target "orders"`, `Job #12`, `Session`. */
  label: string
  /** Where it is shown, when the UI has a page for it. */
  to: RouteLocationRaw | null
}

const PAGES: Record<string, string> = {
  target: RouteName.Targets,
  user: RouteName.Users,
  schedule: RouteName.Schedules,
  grant: RouteName.GrantAdmin,
  grant_policy: RouteName.GrantAdmin,
  api_token: RouteName.Account,
}

export function auditObject(e: Pick<AuditEntry, 'object_type' | 'object_id' | 'object_name'>): AuditObject {
  const kind = inWords('objects', e.object_type)
  const id = e.object_id
  const label = e.object_name ? `${kind} “${e.object_name}”` : id ? `${kind} #${id}` : kind
  if (!id) return { label, to: null }
  if (e.object_type === 'job') return { label, to: { name: RouteName.JobDetail, params: { id } } }
  if (e.object_type === 'query') return { label, to: { name: RouteName.Queries, query: { id } } }
  const page = PAGES[e.object_type]
  return { label, to: page ? { name: page } : null }
}
