// Route names: code navigates by these constants, never by path strings.
export const RouteName = {
  Login: 'login',
  Targets: 'targets',
  Users: 'users',
  Audit: 'audit',
  Account: 'account',
  NotFound: 'not-found',
} as const

export type RouteNameValue = (typeof RouteName)[keyof typeof RouteName]
