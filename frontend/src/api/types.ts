// The only place that reads the generated schema: `npm run gen:api` rewrites
// schema.d.ts, and every other module imports its types from here.
import type { components } from './schema'

type Schemas = components['schemas']

/** Any JSON object. */
export type JsonObject = { [key: string]: unknown }

// The backend declares a few free-form JSON fields as a bare `Object`, which
// openapi-typescript turns into `Record<string, never>` (an object with no
// keys). Widen them here; if the schema later spells them out, the
// intersection keeps the generated detail.
// (Mapping over `keyof Pick` keeps each field optional or required as generated.)
type WithJson<T, K extends keyof T> = Omit<T, K> & { [P in keyof Pick<T, K>]: JsonObject }

/** A target database's failure as the connectors report it (API-CONTRACT.md). */
export interface TestError {
  kind: string
  code: string | null
  message: string
}

export type User = Schemas['User']
export type LoginRequest = Schemas['LoginRequest']
export type LoginResponse = Schemas['LoginResponse']
export type ApiToken = Schemas['ApiToken']
export type NewApiToken = Schemas['NewApiToken']
export type CreatedApiToken = Schemas['CreatedApiToken']
export type NewUser = Schemas['NewUser']
export type UserUpdate = Schemas['UserUpdate']
export type Target = WithJson<Schemas['Target'], 'options'>
export type TargetInput = WithJson<Schemas['TargetInput'], 'options'>
export type TestResult = Omit<Schemas['TestResult'], 'error'> & { error?: TestError | null }
export type AuditEntry = WithJson<Schemas['AuditEntry'], 'detail'>
export type AuditPage = Omit<Schemas['AuditPage'], 'items'> & { items: AuditEntry[] }
export type Health = Schemas['Health']
export type ErrorBody = Schemas['ErrorBody']

// Derived so they follow the schema whether enums are inlined or emitted as
// their own components.
export type Role = User['role']
export type Engine = Target['engine']

export const ROLES: readonly Role[] = ['admin', 'operator', 'developer', 'viewer']
export const ENGINES: readonly Engine[] = ['postgres', 'mysql', 'oracle', 'sqlite']
