// The route table. Views load lazily; `meta` drives the guard, the menu and the title.
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/api/types'
import { RouteName } from './names'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title (document title and menu). */
    titleKey?: 'route.login' | 'route.targets' | 'route.users' | 'route.audit' | 'route.account' | 'route.notFound'
    /** Reachable without signing in. */
    public?: boolean
    /** Only these roles may open the page; absent means every signed-in user. */
    roles?: Role[]
    /** Shown in the sidebar, in this order. */
    menuOrder?: number
  }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: RouteName.Login,
    component: () => import('@/views/LoginView.vue'),
    meta: { public: true, titleKey: 'route.login' },
  },
  {
    path: '/',
    component: () => import('@/layouts/AppLayout.vue'),
    redirect: { name: RouteName.Targets },
    children: [
      {
        path: 'targets',
        name: RouteName.Targets,
        component: () => import('@/views/TargetsView.vue'),
        meta: { titleKey: 'route.targets', menuOrder: 1 },
      },
      {
        path: 'users',
        name: RouteName.Users,
        component: () => import('@/views/UsersView.vue'),
        meta: { titleKey: 'route.users', roles: ['admin'], menuOrder: 2 },
      },
      {
        path: 'audit',
        name: RouteName.Audit,
        component: () => import('@/views/AuditView.vue'),
        meta: { titleKey: 'route.audit', roles: ['admin'], menuOrder: 3 },
      },
      {
        path: 'account',
        name: RouteName.Account,
        component: () => import('@/views/AccountView.vue'),
        meta: { titleKey: 'route.account', menuOrder: 4 },
      },
      {
        path: ':pathMatch(.*)*',
        name: RouteName.NotFound,
        component: () => import('@/views/NotFoundView.vue'),
        meta: { titleKey: 'route.notFound' },
      },
    ],
  },
]
