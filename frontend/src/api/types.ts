// The only place that reads the generated schema: `npm run gen:api` rewrites
// schema.d.ts, and every other module imports its types from here.
import type { components } from './schema'

type Schemas = components['schemas']

/** Any JSON object. */
export type JsonObject = { [key: string]: unknown }

/** A target database's failure as the connectors report it. */
export type TestError = Schemas['DbError']

export type User = Schemas['User']
export type LoginRequest = Schemas['LoginRequest']
export type LoginResponse = Schemas['LoginResponse']
export type ApiToken = Schemas['ApiToken']
export type NewApiToken = Schemas['NewApiToken']
export type CreatedApiToken = Schemas['CreatedApiToken']
export type NewUser = Schemas['NewUser']
export type UserUpdate = Schemas['UserUpdate']
export type Target = Schemas['Target']
export type TargetInput = Schemas['TargetInput']
export type TestResult = Schemas['TestResult']
export type AuditEntry = Schemas['AuditEntry']
export type AuditPage = Schemas['AuditPage']
export type Health = Schemas['Health']
export type ErrorBody = Schemas['ErrorBody']

// Derived so they follow the schema whether enums are inlined or emitted as
// their own components.
export type Role = User['role']
export type Engine = Target['engine']

export const ROLES: readonly Role[] = ['admin', 'operator', 'developer', 'viewer']
export const ENGINES: readonly Engine[] = ['postgres', 'mysql', 'oracle', 'sqlite']
