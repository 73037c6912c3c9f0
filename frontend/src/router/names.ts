// Route names: code navigates by these constants, never by path strings.
export const RouteName = {
  Login: 'login',
  Home: 'home',
  Targets: 'targets',
  Jobs: 'jobs',
  JobNew: 'job-new',
  JobDetail: 'job-detail',
  Queries: 'queries',
  QueryHistory: 'query-history',
  Users: 'users',
  Audit: 'audit',
  Account: 'account',
  Grants: 'grants',
  GrantAdmin: 'grant-admin',
  NotFound: 'not-found',
  Schedules: 'schedules',
} as const

export type RouteNameValue = (typeof RouteName)[keyof typeof RouteName]
