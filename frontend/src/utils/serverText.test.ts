import { afterEach, describe, expect, it } from 'vitest'
import { setLocale } from '@/locales'
import en from '@/locales/server.en'
import zhCN from '@/locales/server.zh-CN'
import { serverText } from './serverText'

afterEach(() => setLocale('en'))

describe('serverText', () => {
  it('puts the values that are codes into words: things, roles, actions, statuses', async () => {
    await setLocale('zh-CN')
    expect(serverText('not_found', { what: 'grant policy' })).toBe('授权策略不存在')
    expect(serverText('job_ended', { id: 7, status: 'cancelled' })).toBe('作业 7 已经结束（已取消）')
    expect(serverText('role_needs', { role: 'viewer', action: 'RunQueries', needed: 'developer' })).toBe(
      '你的角色（只读）不允许此操作：运行查询需要 开发 或更高角色',
    )
    expect(serverText('statement_not_query', { n: 2, line: 3, kind: 'UPDATE' })).toBe('第 2 条语句（第 3 行）是 UPDATE，不是查询')
  })

  it('leaves English to the server, which says it already', async () => {
    await setLocale('en')
    expect(serverText('not_found', { what: 'job' })).toBeNull()
  })

  it('keeps a literal @ of the catalogue as it is', async () => {
    await setLocale('zh-CN')
    expect(serverText('username_pattern')).toContain("或 @")
  })

  it('knows nothing of an uncatalogued reason, so the caller shows the server message', () => {
    expect(serverText('from_a_newer_server', {})).toBeNull()
    expect(serverText(null)).toBeNull()
  })

  it('has every reason in both languages', () => {
    expect(Object.keys(zhCN.reasons).sort()).toEqual(Object.keys(en.reasons).sort())
  })
})
