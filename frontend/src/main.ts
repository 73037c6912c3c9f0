import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { configureHttp } from './api/http'
import { i18n, startLocale, t } from './locales'
import { RouteName, router } from './router'
import { installGuards } from './router/guard'
import { useSessionStore } from './stores/session'
import { feedback } from './ui/feedback'
import { startTheme } from './ui/theme'
import { errorText } from './utils/errorText'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)

configureHttp({
  onError: (err) => feedback.error(errorText(err)),
  onUnauthorized: () => {
    // The session expired or was revoked: forget cached data and ask to sign in,
    // coming back to the same page afterwards.
    useSessionStore(pinia).clear()
    const current = router.currentRoute.value
    if (current.name !== RouteName.Login) {
      void router.push({ name: RouteName.Login, query: { redirect: current.fullPath } })
    }
  },
})

installGuards(router, { onForbidden: () => feedback.warning(t('errors.forbiddenPage')) })
app.use(router)
// A language other than English, or the dark theme, loads first: the page never flashes
// English or light.
void Promise.all([startLocale(), startTheme()]).then(() => app.mount('#app'))
