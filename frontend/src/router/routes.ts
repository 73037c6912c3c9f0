// The route table. Views load lazily; `meta` drives the guard, the menu and the title.
import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/api/types'
import { JOB_SUBMIT_ROLES, QUERY_ROLES } from '@/utils/roles'
import { RouteName } from './names'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title (document title and menu). */
    titleKey?:
      | 'route.login'
      | 'route.home'
      | 'route.targets'
      | 'route.jobs'
      | 'route.jobNew'
      | 'route.jobDetail'
      | 'route.queries'
      | 'route.queryHistory'
      | 'route.users'
      | 'route.audit'
      | 'route.account'
      | 'route.notFound'
      | 'route.schedules'
      | 'route.grants'
      | 'route.grantAdmin'
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
    children: [
      {
        path: '',
        name: RouteName.Home,
        component: () => import('@/views/HomeView.vue'),
        meta: { titleKey: 'route.home', menuOrder: 0 },
      },
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
        // `?id=` shows that query's results under its SQL and targets (see the queries store).
        path: 'queries',
        name: RouteName.Queries,
        component: () => import('@/views/QueryConsoleView.vue'),
        meta: { titleKey: 'route.queries', roles: QUERY_ROLES, menuOrder: 3 },
      },
      {
        // Any user may list their own queries (an account demoted to viewer keeps its history).
        path: 'queries/history',
        name: RouteName.QueryHistory,
        component: () => import('@/views/QueryHistoryView.vue'),
        meta: { titleKey: 'route.queryHistory', menuParent: RouteName.Queries },
      },
      {
        // Every role reads schedules; creating one needs a role that submits jobs.
        path: 'schedules',
        name: RouteName.Schedules,
        component: () => import('@/views/SchedulesView.vue'),
        meta: { titleKey: 'route.schedules', menuOrder: 2.5 },
      },
      {
        path: 'users',
        name: RouteName.Users,
        component: () => import('@/views/UsersView.vue'),
        meta: { titleKey: 'route.users', roles: ['admin'], menuOrder: 4 },
      },
      {
        path: 'audit',
        name: RouteName.Audit,
        component: () => import('@/views/AuditView.vue'),
        meta: { titleKey: 'route.audit', roles: ['admin'], menuOrder: 5 },
      },
      {
        path: 'account',
        name: RouteName.Account,
        component: () => import('@/views/AccountView.vue'),
        meta: { titleKey: 'route.account', menuOrder: 6 },
      },
      {
        // Every role may ask; the policies list shows only those its role may use.
        path: 'grants',
        name: RouteName.Grants,
        component: () => import('@/views/GrantsView.vue'),
        meta: { titleKey: 'route.grants', menuOrder: 3.5 },
      },
      {
        // `?tab=grants&status=…` opens the grants list filtered (the top-bar banner links there).
        path: 'grants/admin',
        name: RouteName.GrantAdmin,
        component: () => import('@/views/GrantAdminView.vue'),
        meta: { titleKey: 'route.grantAdmin', roles: ['admin'], menuOrder: 5.5 },
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
