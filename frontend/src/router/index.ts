import { createRouter, createWebHistory } from 'vue-router'
import { routes } from './routes'

export { RouteName } from './names'

// History mode: the backend (and nginx) answer unknown non-API paths with index.html.
export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
  // The window, for pages outside the signed-in frame (which scrolls its own panel, see
  // AppLayout): back and forward return to where the user was, a new page starts at its top.
  scrollBehavior: (to, from, saved) => saved ?? (to.path !== from.path ? { top: 0 } : false),
})
