// The route table. Views load lazily; `meta` drives the guard, the menu and the title.
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/api/types'
import { JOB_SUBMIT_ROLES } from '@/utils/jobs'
import { RouteName } from './names'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title (document title and menu). */
    titleKey?:
      | 'route.login'
      | 'route.targets'
      | 'route.jobs'
      | 'route.jobNew'
      | 'route.jobDetail'
      | 'route.users'
      | 'route.audit'
      | 'route.account'
      | 'route.notFound'
    /** Reachable without signing in. */
    public?: boolean
    /** Only these roles may open the page; absent means every signed-in user. */
    roles?: Role[]
    /** Shown in the sidebar, in this order. */
    menuOrder?: number
    /** The sidebar entry to highlight on a page that has none of its own. */
    menuParent?: string
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
        // Every role reads jobs; submitting needs a role that may run SQL.
        path: 'jobs',
        name: RouteName.Jobs,
        component: () => import('@/views/JobsView.vue'),
        meta: { titleKey: 'route.jobs', menuOrder: 2 },
      },
      {
        path: 'jobs/new',
        name: RouteName.JobNew,
        component: () => import('@/views/JobNewView.vue'),
        meta: { titleKey: 'route.jobNew', roles: JOB_SUBMIT_ROLES, menuParent: RouteName.Jobs },
      },
      {
        path: 'jobs/:id(\\d+)',
        name: RouteName.JobDetail,
        component: () => import('@/views/JobDetailView.vue'),
        props: (route) => ({ id: Number(route.params.id) }),
        meta: { titleKey: 'route.jobDetail', menuParent: RouteName.Jobs },
      },
      {
        path: 'users',
        name: RouteName.Users,
        component: () => import('@/views/UsersView.vue'),
        meta: { titleKey: 'route.users', roles: ['admin'], menuOrder: 3 },
      },
      {
        path: 'audit',
        name: RouteName.Audit,
        component: () => import('@/views/AuditView.vue'),
        meta: { titleKey: 'route.audit', roles: ['admin'], menuOrder: 4 },
      },
      {
        path: 'account',
        name: RouteName.Account,
        component: () => import('@/views/AccountView.vue'),
        meta: { titleKey: 'route.account', menuOrder: 5 },
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
