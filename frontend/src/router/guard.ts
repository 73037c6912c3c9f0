// Navigation guards: who may see which page, and the document title.
import type { Router } from 'vue-router'
import { t } from '@/locales'
import { useSessionStore } from '@/stores/session'
import { safeRedirect } from '@/utils/redirect'
import { RouteName } from './names'

export interface GuardHooks {
  /** Tells the user why they landed somewhere else (a toast in the app). */
  onForbidden?: () => void
}

export function installGuards(router: Router, hooks: GuardHooks = {}): void {
  router.beforeEach(async (to) => {
    const session = useSessionStore()
    await session.ensureLoaded()

    if (to.meta.public) {
      // A signed-in user has no business on the login page.
      if (to.name === RouteName.Login && session.user) {
        return safeRedirect(to.query.redirect) ?? { name: RouteName.Home }
      }
      return true
    }
    if (!session.user) {
      return { name: RouteName.Login, query: { redirect: to.fullPath } }
    }
    // Every matched record is checked, so a parent's restriction covers its children.
    const allowed = to.matched.every((r) => !r.meta.roles || session.hasRole(...r.meta.roles))
    if (!allowed) {
      hooks.onForbidden?.()
      return { name: RouteName.Home }
    }
    return true
  })

  router.afterEach((to) => updateTitle(to.meta.titleKey))
}

export function updateTitle(titleKey: string | undefined): void {
  const app = t('app.name')
  document.title = titleKey ? `${t(titleKey)} · ${app}` : app
}
