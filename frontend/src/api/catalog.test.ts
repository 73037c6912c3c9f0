import { beforeEach, describe, expect, it, vi } from 'vitest'
import { configureHttp } from '@/api/http'
import { apiError, json, mockApi } from '@/test/mockApi'
import { catalogApi, resetSchemas, schemaProvider, targetSchema, toSchemaInfo, type TargetSchema } from './catalog'

const answer: TargetSchema = {
  default_schema: 'public',
  schemas: ['public', 'sales'],
  tables: [
    { schema: 'sales', name: 'orders', kind: 'table' },
    { schema: 'public', name: 'recent', kind: 'view' },
  ],
  columns: [
    { schema: 'sales', table: 'orders', name: 'order_id', type: 'bigint' },
    { schema: 'public', table: 'recent', name: 'order_id', type: 'bigint' },
  ],
  truncated: false,
  fetched_at: '2026-12-03T10:00:00Z',
}

beforeEach(() => {
  configureHttp({ onError: vi.fn() })
  resetSchemas()
})

describe('target schema for completion', () => {
  it("maps the server's answer to the editor's schema info", () => {
    expect(toSchemaInfo(answer)).toEqual({
      schemas: ['public', 'sales'],
      defaultSchema: 'public',
      tables: [
        { schema: 'sales', name: 'orders', kind: 'table' },
        { schema: 'public', name: 'recent', kind: 'view' },
      ],
      columns: [
        { schema: 'sales', table: 'orders', name: 'order_id', type: 'bigint' },
        { schema: 'public', table: 'recent', name: 'order_id', type: 'bigint' },
      ],
    })
    expect(toSchemaInfo({ ...answer, default_schema: null }).defaultSchema).toBeUndefined()
  })

  it('fetches nothing until the editor asks, then once per target for the session', async () => {
    const api = mockApi({
      'GET /api/targets/1/schema': json(200, answer),
      'GET /api/targets/2/schema': json(200, { ...answer, schemas: ['main'] }),
    })
    const first = schemaProvider(1)!
    expect(schemaProvider(1)).toBe(first)
    expect(api.calls).toHaveLength(0)

    const [a, b] = await Promise.all([first({ dialect: 'postgresql' }), first({ dialect: 'postgresql' })])
    expect(a).toBe(b)
    expect(a.tables[0]!.name).toBe('orders')
    await schemaProvider(1)!({ dialect: 'postgresql' })
    expect(api.callsTo('GET', '/api/targets/1/schema')).toHaveLength(1)

    expect((await schemaProvider(2)!({ dialect: 'sqlite' })).schemas).toEqual(['main'])
    expect(api.callsTo('GET', '/api/targets/2/schema')).toHaveLength(1)
    expect(schemaProvider(null)).toBeUndefined()
  })

  it('forgets a failed fetch without a toast, so the next ask tries again', async () => {
    const onError = vi.fn()
    configureHttp({ onError })
    const api = mockApi({
      'GET /api/targets/3/schema': [apiError(502, 'target_failed', 'down'), json(200, answer)],
    })
    await expect(targetSchema(3)).rejects.toThrow('down')
    expect(onError).not.toHaveBeenCalled()
    expect((await targetSchema(3)).defaultSchema).toBe('public')
    expect(api.callsTo('GET', '/api/targets/3/schema')).toHaveLength(2)
  })

  it('asks the server to read the catalog again only when told to', async () => {
    const api = mockApi({ 'GET /api/targets/4/schema': json(200, answer) })
    await catalogApi.schema(4)
    await catalogApi.schema(4, true)
    const calls = api.callsTo('GET', '/api/targets/4/schema')
    expect(calls[0]!.query.get('refresh')).toBeNull()
    expect(calls[1]!.query.get('refresh')).toBe('true')
  })
})
