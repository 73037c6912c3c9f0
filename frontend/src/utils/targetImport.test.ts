import { describe, expect, it } from 'vitest'
import type { ImportReport } from '@/api/types'
import { importSummary, importTableRows, statusType } from './targetImport'

const report: ImportReport = {
  dry_run: true,
  created: 0,
  would_create: 1,
  failed: 2,
  rows: [
    { row: 2, name: 'maria-a', status: 'would_create', id: null, error: null },
    {
      row: 3,
      name: 'bad',
      status: 'error',
      id: null,
      error: { code: 'invalid_input', field: 'port', message: 'must be between 1 and 65535', reason: 'between', params: { min: 1, max: 65535 } },
    },
    {
      row: 5,
      name: null,
      status: 'error',
      id: null,
      error: { code: 'invalid_input', field: null, message: 'something new', reason: 'not_catalogued', params: {} },
    },
  ],
}

const say = (reason: string, params: Record<string, unknown>) =>
  reason === 'between' ? `介于 ${String(params.min)} 和 ${String(params.max)} 之间` : null

describe('target import report', () => {
  it('maps each row with its refusal in the viewer language, naming the field', () => {
    expect(importTableRows(report, say)).toEqual([
      { row: 2, name: 'maria-a', status: 'would_create', error: '' },
      { row: 3, name: 'bad', status: 'error', error: 'port: 介于 1 和 65535 之间' },
      { row: 5, name: '', status: 'error', error: 'something new' },
    ])
  })

  it('counts what a dry run would create, and what an import created', () => {
    expect(importSummary(report)).toEqual({ ok: 1, failed: 2, total: 3, dryRun: true })
    expect(importSummary({ ...report, dry_run: false, created: 1, would_create: 0 }).ok).toBe(1)
    expect(statusType('created')).toBe('success')
    expect(statusType('would_create')).toBe('info')
    expect(statusType('error')).toBe('error')
  })
})
