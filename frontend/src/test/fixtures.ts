// Typed sample data; built from the API types so a schema change breaks the tests.
import type {
  ApiToken,
  AuditEntry,
  Job,
  JobSummary,
  Query,
  QueryResult,
  QuerySummary,
  Run,
  Script,
  Target,
  User,
} from '@/api/types'

import { countRuns } from '@/utils/jobs'

const AT = '2026-11-27T23:59:00Z'

export function user(overrides: Partial<User> = {}): User {
  return { id: 1, username: 'alice', role: 'admin', disabled: false, created_at: AT, updated_at: AT, ...overrides }
}

export function target(overrides: Partial<Target> = {}): Target {
  return {
    id: 1,
    name: 'orders-primary',
    engine: 'postgres',
    host: 'db1.internal',
    port: 5432,
    database: 'orders',
    username: 'autodb',
    has_password: true,
    has_query_password: false,
    trusted_for_queries: false,
    query_account_findings: [],
    query_account_checked_at: AT,
    tags: ['prod'],
    options: {},
    created_at: AT,
    updated_at: AT,
    ...overrides,
  }
}

export function token(overrides: Partial<ApiToken> = {}): ApiToken {
  return { id: 1, name: 'ci', created_at: AT, expires_at: null, last_used_at: null, ...overrides }
}

export function auditEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: 1,
    at: AT,
    actor: 'alice',
    action: 'auth.login',
    object_type: 'session',
    object_id: null,
    detail: {},
    client_addr: '127.0.0.1',
    success: true,
    ...overrides,
  }
}

export function run(overrides: Partial<Run> = {}): Run {
  return {
    id: 1,
    target_id: 1,
    target_name: 'orders-primary',
    attempt: 1,
    status: 'waiting',
    started_at: null,
    finished_at: null,
    statements_done: 0,
    statements_total: null,
    error: null,
    error_code: null,
    error_line: null,
    superseded: false,
    first_statement: 0,
    script_index: 0,
    ...overrides,
  }
}

/** A script; its counts follow its runs unless given. */
export function script(overrides: Partial<Script> = {}): Script {
  const runs = overrides.runs ?? [run()]
  return {
    index: 0,
    status: 'waiting',
    sql: 'SELECT 1;',
    targets: { target_ids: [1], target_tags: [] },
    started_at: null,
    finished_at: null,
    runs,
    counts: countRuns(runs),
    ...overrides,
  }
}

export function job(overrides: Partial<Job> = {}): Job {
  return {
    id: 7,
    name: 'add index',
    status: 'waiting',
    on_error: 'stop',
    transactional: false,
    attempt: 1,
    created_by: 'alice',
    created_at: AT,
    started_at: null,
    finished_at: null,
    scripts: [script()],
    ...overrides,
  }
}

export function jobSummary(overrides: Partial<JobSummary> = {}): JobSummary {
  return {
    id: 7,
    name: 'add index',
    status: 'waiting',
    attempt: 1,
    created_by: 'alice',
    created_at: AT,
    started_at: null,
    finished_at: null,
    target_count: 1,
    runs_total: 1,
    runs_waiting: 1,
    runs_running: 0,
    runs_succeeded: 0,
    runs_failed: 0,
    runs_cancelled: 0,
    ...overrides,
  }
}

export function queryResult(overrides: Partial<QueryResult> = {}): QueryResult {
  return {
    target_id: 1,
    target_name: 'orders-primary',
    statement_index: 0,
    line: 1,
    status: 'waiting',
    columns: [],
    rows: [],
    truncated: false,
    truncated_by: null,
    row_count: 0,
    duration_ms: 0,
    error: null,
    error_code: null,
    started_at: null,
    finished_at: null,
    ...overrides,
  }
}

export function query(overrides: Partial<Query> = {}): Query {
  return {
    id: 42,
    status: 'running',
    sql: 'SELECT 1',
    targets: { target_ids: [1], target_tags: [] },
    row_limit: 1000,
    timeout_s: 30,
    created_by: 'alice',
    created_at: AT,
    started_at: AT,
    finished_at: null,
    results: [queryResult()],
    ...overrides,
  }
}

export function querySummary(overrides: Partial<QuerySummary> = {}): QuerySummary {
  return { id: 42, status: 'success', sql: 'SELECT 1', created_by: 'alice', created_at: AT, finished_at: AT, ...overrides }
}
