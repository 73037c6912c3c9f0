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
export type PasswordChange = Schemas['PasswordChange']
export type CreatedApiToken = Schemas['CreatedApiToken']
export type NewUser = Schemas['NewUser']
export type UserUpdate = Schemas['UserUpdate']
export type Target = Schemas['Target']
export type TargetInput = Schemas['TargetInput']
export type TestResult = Schemas['TestResult']
/** A target's last connection check (a test, or the periodic check). */
export type TargetHealth = Schemas['TargetHealth']
/** Edits not saved yet, tested over the stored target (`POST /api/targets/{id}/test`). */
export type TargetEdits = Schemas['TargetEdits']
export type ImportInput = Schemas['ImportInput']
export type ImportReport = Schemas['ImportReport']
export type ImportRow = Schemas['ImportRow']
export type AuditEntry = Schemas['AuditEntry']
export type AuditPage = Schemas['AuditPage']
export type Health = Schemas['Health']
export type ErrorBody = Schemas['ErrorBody']
/** Where a job, script, run, query or query result is. */
export type Status = Schemas['Status']
export type Job = Schemas['Job']
export type JobInput = Schemas['JobInput']
export type JobPage = Schemas['JobPage']
export type JobSummary = Schemas['JobSummary']
/** Jobs ended per local day, for the home page's chart. */
export type Outcomes = Schemas['Outcomes']
export type DayOutcomes = Schemas['DayOutcomes']
export type Script = Schemas['Script']
export type ScriptInput = Schemas['ScriptInput']
export type Run = Schemas['Run']
export type RunLog = Schemas['RunLog']
export type RunPage = Schemas['RunPage']
/** Where a retried run starts: at the failed statement, after it, or at the top. */
export type RetryFrom = Schemas['RetryFrom']
/** Runs of a script by status, latest attempts only. */
export type StatusCounts = Schemas['RunCounts']
export type StatementLog = Schemas['StatementLog']
export type SplitRequest = Schemas['SplitRequest']
export type SplitResponse = Schemas['SplitResponse']
export type SplitStatement = Schemas['SplitStatement']
export type SplitNote = Schemas['SplitNote']

// Derived so they follow the schema whether enums are inlined or emitted as
// their own components.
export type Role = User['role']
export type Engine = Target['engine']
export type OnError = Schemas['OnError']

/** The API documents job, script, run and statement statuses as these strings. */
export type JobStatus = 'waiting' | 'running' | 'success' | 'error' | 'cancelled'
export const JOB_STATUSES: readonly JobStatus[] = ['waiting', 'running', 'success', 'error', 'cancelled']

// The live events of GET /api/jobs/{id}/events. An event stream has no schema in
// the OpenAPI document, so the payloads are written here from the schema's parts.
export type JobSnapshotEvent = Job
export interface RunEvent {
  job_id: number
  script_index: number
  run: Run
}
export interface ScriptEvent {
  job_id: number
  index: number
  status: Script['status']
}
export type JobChangeEvent = Pick<Job, 'id' | 'status' | 'attempt' | 'started_at' | 'finished_at'>
/** `reason` is set when the server ended the stream before the job ended (see StreamEnd). */
export type JobEndEvent = Pick<Job, 'id' | 'status'> & { reason?: string | null }

// Queries. The document describes result rows only as objects, and a query's
// target selector as a map: both are typed here from the API contract.
export type CreatedQuery = Schemas['CreatedQuery']
export type QueryInput = Schemas['QueryInput']
export type QueryPage = Schemas['QueryPage']
export type QuerySummary = Schemas['QuerySummary']
export type ResultColumn = Schemas['ResultColumn']

/**
 * One typed value of a result row. Decimals, times and bytes (hex) stay strings, as sent; an
 * integer beyond ±(2^53 − 1), which a JavaScript number cannot hold exactly, comes as its digits.
 */
export type Cell =
  | { t: 'null' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: number | string }
  | { t: 'float'; v: number }
  | { t: 'decimal'; v: string }
  | { t: 'text'; v: string }
  | { t: 'bytes'; v: string }
  | { t: 'date'; v: string }
  | { t: 'time'; v: string }
  | { t: 'timestamp'; v: string }
  | { t: 'timestamp_tz'; v: string }
  /** The database's JSON text; in a result stored before 2026-12-04, the parsed value (utils/jsonText.ts). */
  | { t: 'json'; v: unknown }

export type QueryResult = Omit<Schemas['QueryResult'], 'rows'> & { rows: Cell[][] }
/** Where a query runs, as submitted: one of the two lists is empty. */
export interface QueryTargets {
  target_ids: number[]
  target_tags: string[]
}
export type Query = Omit<Schemas['Query'], 'results' | 'targets'> & {
  results: QueryResult[]
  targets: QueryTargets
}

// The live events of GET /api/queries/{id}/events.
export type QuerySnapshotEvent = Query
export interface QueryResultEvent {
  query_id: number
  result: QueryResult
}
export type QueryStatusEvent = Pick<Query, 'id' | 'status'>
export type QueryEndEvent = Pick<Query, 'id' | 'status'> & { reason?: string | null }

export const ROLES: readonly Role[] = ['admin', 'operator', 'developer', 'viewer']
export const ENGINES: readonly Engine[] = ['postgres', 'mysql', 'oracle', 'sqlite']

export type Schedule = Schemas['Schedule']
export type ScheduleInput = Schemas['ScheduleInput']
export type ScheduleFire = Schemas['Fire']
export type SchedulePreviewInput = Schemas['PreviewInput']
export type SchedulePreview = Schemas['Preview']
export type Overlap = Schemas['Overlap']
export type Misfire = Schemas['Misfire']
export type FireOutcome = Schemas['Outcome']
// Temporary access (grants).
export type GrantPolicy = Schemas['Policy']
export type PolicyInput = Schemas['PolicyInput']
export type PolicyRight = Schemas['Right']
export type Grant = Schemas['Grant']
export type GrantInput = Schemas['GrantInput']
export type CreatedGrant = Schemas['Created']
export type GrantStatus = Schemas['GrantStatus']
export type GrantMode = Schemas['Mode']
export const GRANT_STATUSES: readonly GrantStatus[] = [
  'pending',
  'active',
  'restoring',
  'ended',
  'failed',
  'restore_failed',
  'conflict',
]
export interface GrantFilter {
  status?: GrantStatus
  target?: number
  user?: string
}
