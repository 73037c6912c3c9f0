// The target form's model and its conversion to and from the API types, kept
// out of the component so the rules (SQLite has no host, an empty password on
// edit keeps the stored one) are unit-tested.
import type { Engine, Target, TargetInput } from '@/api/types'
import { ENGINE_SPECS } from './engines'

export interface TargetFormModel {
  name: string
  engine: Engine
  host: string
  port: number | null
  database: string
  username: string
  /** Empty on edit means "keep the stored password". */
  password: string
  tags: string[]
  /** Options as JSON text; empty means none. */
  optionsText: string
  /** The least-privilege account queries use; empty means the main account. */
  queryUsername: string
  /** Empty on edit means "keep the stored one". */
  queryPassword: string
  /** Run queries even if the query account can escape (admins only; the form is theirs). */
  trustedForQueries: boolean
}

export function emptyModel(engine: Engine = 'postgres'): TargetFormModel {
  return {
    name: '',
    engine,
    host: '',
    port: ENGINE_SPECS[engine].network ? ENGINE_SPECS[engine].defaultPort : null,
    database: '',
    username: '',
    password: '',
    tags: [],
    optionsText: '',
    queryUsername: '',
    queryPassword: '',
    trustedForQueries: false,
  }
}

export function modelFromTarget(target: Target): TargetFormModel {
  const hasOptions = Object.keys(target.options ?? {}).length > 0
  return {
    name: target.name,
    engine: target.engine,
    host: target.host,
    port: ENGINE_SPECS[target.engine].network ? target.port : null,
    database: target.database,
    username: target.username,
    password: '',
    tags: [...(target.tags ?? [])],
    optionsText: hasOptions ? JSON.stringify(target.options, null, 2) : '',
    queryUsername: target.query_username ?? '',
    queryPassword: '',
    trustedForQueries: target.trusted_for_queries,
  }
}

type Options = NonNullable<TargetInput['options']>

/** Parses the options text; undefined when it is not a JSON object. */
export function parseOptions(text: string): Options | undefined {
  if (text.trim() === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    return value as Options
  } catch {
    return undefined
  }
}

export function isValidPort(port: number | null): boolean {
  return port !== null && Number.isInteger(port) && port >= 1 && port <= 65535
}

/** The request body; call after validation (invalid options become `{}`). */
export function toTargetInput(model: TargetFormModel): TargetInput {
  const spec = ENGINE_SPECS[model.engine]
  const input: TargetInput = {
    name: model.name.trim(),
    engine: model.engine,
    // SQLite is a file: network fields are sent empty rather than left stale
    // from an engine the user switched away from.
    host: spec.network ? model.host.trim() : '',
    port: spec.network ? (model.port ?? spec.defaultPort) : 0,
    database: model.database.trim(),
    username: spec.network ? model.username.trim() : '',
    tags: [...new Set(model.tags.map((tag) => tag.trim()).filter(Boolean))],
    options: parseOptions(model.optionsText) ?? {},
    trusted_for_queries: model.trustedForQueries,
  }
  // Absent, not empty: on PUT an absent password keeps the stored one.
  if (spec.network && model.password !== '') input.password = model.password
  // An absent query account means the main one: it is sent whenever it is set, so an edit keeps it.
  const queryUser = model.queryUsername.trim()
  if (spec.network && queryUser !== '') {
    input.query_username = queryUser
    if (model.queryPassword !== '') input.query_password = model.queryPassword
  }
  return input
}
