import { afterEach, describe, expect, it } from 'vitest'
import { setLocale } from '@/locales'
import { RouteName } from '@/router/names'
import { auditAction, auditObject } from './audit'

afterEach(() => setLocale('en'))

describe('audit entries for people', () => {
  it('translates actions and object types, and keeps a code it does not know', async () => {
    await setLocale('zh-CN')
    expect(auditAction({ action: 'create' })).toBe('创建')
    expect(auditObject({ object_type: 'target', object_id: '6', object_name: 'orders' }).label).toBe('目标 “orders”')
    expect(auditAction({ action: 'something_new' })).toBe('something_new')
  })

  it('names an object by its name, else its id, and links to its page', () => {
    expect(auditObject({ object_type: 'target', object_id: '6', object_name: null })).toEqual({
      label: 'Target #6',
      to: { name: RouteName.Targets },
    })
    expect(auditObject({ object_type: 'job', object_id: '12', object_name: 'nightly' })).toEqual({
      label: 'Job “nightly”',
      to: { name: RouteName.JobDetail, params: { id: '12' } },
    })
    expect(auditObject({ object_type: 'query', object_id: '3', object_name: null }).to).toEqual({
      name: RouteName.Queries,
      query: { id: '3' },
    })
    expect(auditObject({ object_type: 'session', object_id: null, object_name: null })).toEqual({ label: 'Session', to: null })
  })
})
