import { describe, expect, it } from 'vitest'
import { target } from '@/test/fixtures'
import { emptyModel, isValidPort, modelFromTarget, parseOptions, toTargetInput } from './targetForm'
import { ENGINE_SPECS, formatAddress, isDefaultPort } from './engines'

describe('target form model', () => {
  it('starts with the engine default port', () => {
    expect(emptyModel('postgres').port).toBe(5432)
    expect(emptyModel('mysql').port).toBe(3306)
    expect(emptyModel('oracle').port).toBe(1521)
    expect(emptyModel('sqlite').port).toBeNull()
  })

  it('sends a SQLite target as a file path only', () => {
    const model = { ...emptyModel('postgres'), name: ' local ', host: 'left-over', username: 'u', password: 'p' }
    model.engine = 'sqlite'
    model.database = '/var/lib/app.db'

    expect(toTargetInput(model)).toEqual({
      name: 'local',
      engine: 'sqlite',
      host: '',
      port: 0,
      database: '/var/lib/app.db',
      username: '',
      tags: [],
      options: {},
      trusted_for_queries: false,
    })
  })

  it('keeps the query account on edit and sends its password only when typed', () => {
    const model = modelFromTarget(target({ query_username: 'reader', has_query_password: true }))

    expect(toTargetInput(model).query_username).toBe('reader')
    expect('query_password' in toTargetInput(model)).toBe(false)
    expect(toTargetInput({ ...model, queryPassword: 's3' }).query_password).toBe('s3')
    expect('query_username' in toTargetInput({ ...model, queryUsername: ' ' })).toBe(false)
  })

  it('sends the trust for queries as the admin set it', () => {
    const model = modelFromTarget(target({ trusted_for_queries: true }))

    expect(model.trustedForQueries).toBe(true)
    expect(toTargetInput(model).trusted_for_queries).toBe(true)
    expect(toTargetInput({ ...model, trustedForQueries: false }).trusted_for_queries).toBe(false)
  })

  it('leaves the password out when editing with an empty password field, to keep the stored one', () => {
    const model = modelFromTarget(target({ has_password: true }))

    expect(model.password).toBe('')
    expect('password' in toTargetInput(model)).toBe(false)
    expect(toTargetInput({ ...model, password: 'n3w' }).password).toBe('n3w')
  })

  it('trims and de-duplicates tags', () => {
    const model = { ...emptyModel(), tags: [' prod', 'prod', '', 'eu '] }

    expect(toTargetInput(model).tags).toEqual(['prod', 'eu'])
  })

  it('accepts only a JSON object as options', () => {
    expect(parseOptions('')).toEqual({})
    expect(parseOptions('{"sslmode": "require"}')).toEqual({ sslmode: 'require' })
    expect(parseOptions('[1, 2]')).toBeUndefined()
    expect(parseOptions('null')).toBeUndefined()
    expect(parseOptions('{oops')).toBeUndefined()
  })

  it('shows existing options as formatted JSON when editing', () => {
    expect(modelFromTarget(target({ options: { sslmode: 'verify-full' } })).optionsText).toContain('"sslmode": "verify-full"')
    expect(modelFromTarget(target({ options: {} })).optionsText).toBe('')
  })

  it('validates ports', () => {
    expect(isValidPort(5432)).toBe(true)
    expect(isValidPort(0)).toBe(false)
    expect(isValidPort(70000)).toBe(false)
    expect(isValidPort(null)).toBe(false)
  })
})

describe('engines', () => {
  it('recognises a port left at some engine default, so an engine change may replace it', () => {
    expect(isDefaultPort(ENGINE_SPECS.mysql.defaultPort)).toBe(true)
    expect(isDefaultPort(null)).toBe(true)
    expect(isDefaultPort(6543)).toBe(false)
  })

  it('formats addresses, bracketing IPv6 and omitting them for SQLite', () => {
    expect(formatAddress('postgres', 'db1', 5432)).toBe('db1:5432')
    expect(formatAddress('mysql', '::1', 3306)).toBe('[::1]:3306')
    expect(formatAddress('sqlite', '', 0)).toBe('')
  })
})
