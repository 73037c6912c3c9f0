// A target's schema for the SQL editor's completion: GET /api/targets/{id}/schema, fetched
// lazily (the editor asks on focus or on its first completion, never on page load), one
// request per target for the session (kept in memory; a failed fetch is forgotten, so the
// next focus asks again), mapped to the editor's SchemaInfo.
import { api, call, type RequestOptions } from './http'
import type { components } from './schema'
import type { SchemaInfo, SchemaProvider } from '@/utils/sqlEditor'

export type TargetSchema = components['schemas']['TargetSchema']

export const catalogApi = {
  schema: (id: number, refresh = false, opts?: RequestOptions) =>
    call(opts, (init) =>
      api.GET('/api/targets/{id}/schema', {
        ...init,
        params: { path: { id }, query: refresh ? { refresh } : {} },
      }),
    ),
}

/** The answer in the editor's terms. */
export function toSchemaInfo(s: TargetSchema): SchemaInfo {
  return {
    schemas: s.schemas,
    defaultSchema: s.default_schema ?? undefined,
    tables: s.tables.map((t) => ({ schema: t.schema, name: t.name, kind: t.kind })),
    columns: s.columns.map((c) => ({ schema: c.schema, table: c.table, name: c.name, type: c.type })),
  }
}

type Fetch = (id: number) => Promise<TargetSchema>

// Without a toast: a target that cannot be read leaves the editor with keywords only.
const fetchQuietly: Fetch = (id) => catalogApi.schema(id, false, { silent: true })

const schemas = new Map<number, Promise<SchemaInfo>>()
const providers = new Map<number, SchemaProvider>()
let fetcher: Fetch = fetchQuietly

/** The schema of target `id`: fetched on the first ask, then the same answer for the session. */
export function targetSchema(id: number): Promise<SchemaInfo> {
  const known = schemas.get(id)
  if (known) return known
  const loading = fetcher(id).then(toSchemaInfo)
  schemas.set(id, loading)
  loading.catch(() => {
    if (schemas.get(id) === loading) schemas.delete(id)
  })
  return loading
}

/**
 * The editor's provider for target `id` (none without a target): the same function for the
 * same id, so the editor asks once per target; nothing is fetched until it is called.
 */
export function schemaProvider(id: number | null | undefined): SchemaProvider | undefined {
  if (id === null || id === undefined) return undefined
  let provider = providers.get(id)
  if (!provider) {
    provider = () => targetSchema(id)
    providers.set(id, provider)
  }
  return provider
}

/** Forgets every schema (the user changed: the next one may not read these targets). */
export function forgetSchemas(): void {
  schemas.clear()
  providers.clear()
}

/** For tests: forgets every schema and replaces how one is fetched. */
export function resetSchemas(fetch: Fetch = fetchQuietly): void {
  forgetSchemas()
  fetcher = fetch
}
