import { createRouter, createWebHistory } from 'vue-router'
import { routes } from './routes'

export { RouteName } from './names'

// History mode: the backend (and nginx) answer unknown non-API paths with index.html.
export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
})
