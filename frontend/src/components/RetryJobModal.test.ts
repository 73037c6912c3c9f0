import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, ref } from 'vue'
import { configureHttp } from '@/api/http'
import type { Engine, Job, RetryFrom } from '@/api/types'
import { i18n, setLocale } from '@/locales'
import { useJobsStore } from '@/stores/jobs'
import { job, run, script } from '@/test/fixtures'
import { json, mockApi } from '@/test/mockApi'
import { retryRepeatsCommitted } from '@/utils/jobs'
import RetryJobModal from './RetryJobModal.vue'

const ENDED = '2026-12-02T10:00:00Z'

function failedJob(overrides: Partial<Job> = {}): Job {
  return job({
    id: 7,
    status: 'error',
    finished_at: ENDED,
    scripts: [script({ runs: [run({ status: 'error', target_id: 3 })] })],
    ...overrides,
  })
}

function mountModal(j: Job, engine: Engine | undefined, onRetry: (from: RetryFrom) => Promise<void>) {
  const show = ref(true)
  const app = createApp({
    render: () =>
      h(RetryJobModal, {
        show: show.value,
        'onUpdate:show': (v: boolean) => (show.value = v),
        job: j,
        engineOf: () => engine,
        onRetry,
      }),
  })
  app.use(i18n)
  app.mount(document.createElement('div'))
  return { app, show }
}

function byTestId(id: string): HTMLElement | null {
  return document.body.querySelector<HTMLElement>(`[data-testid="${id}"]`)
}

function retryButton(): HTMLButtonElement {
  const buttons = [...document.body.querySelectorAll<HTMLButtonElement>('.n-dialog button')]
  const found = buttons.find((b) => b.textContent?.trim() === 'Retry failed runs')
  if (!found) throw new Error('no retry button')
  return found
}

beforeEach(async () => {
  setActivePinia(createPinia())
  configureHttp({ onError: vi.fn() })
  await setLocale('en')
})
afterEach(() => {
  document.body.innerHTML = ''
})

describe('the retry dialog', () => {
  it('starts at the failed statement unless another choice is made, and sends that choice', async () => {
    const api = mockApi({ 'POST /api/jobs/7/retry': json(200, failedJob({ status: 'waiting', attempt: 2 })) })
    const store = useJobsStore()
    const { app, show } = mountModal(failedJob(), 'mysql', async (from) => {
      await store.retry(7, from)
    })
    await nextTick()
    expect(byTestId('retry-dialog')).not.toBeNull()
    retryButton().click()
    await vi.waitFor(() => expect(api.calls).toHaveLength(1))
    expect(api.calls[0]!.body).toEqual({ from: 'failed_statement' })
    await vi.waitFor(() => expect(show.value).toBe(false))

    show.value = true
    await nextTick()
    byTestId('retry-from-next_statement')!.querySelector('input')!.click()
    await nextTick()
    retryButton().click()
    await vi.waitFor(() => expect(api.calls).toHaveLength(2))
    expect(api.calls[1]!.body).toEqual({ from: 'next_statement' })
    app.unmount()
  })

  it('warns on MariaDB that the whole script runs committed statements again, and not on a rolled-back run', async () => {
    const { app } = mountModal(failedJob(), 'mysql', () => Promise.resolve())
    await nextTick()
    expect(byTestId('retry-committed-warning')?.textContent).toContain('already committed')
    app.unmount()
    document.body.innerHTML = ''

    const rolled = mountModal(failedJob({ transactional: true }), 'postgres', () => Promise.resolve())
    await nextTick()
    expect(byTestId('retry-dialog')).not.toBeNull()
    expect(byTestId('retry-committed-warning')).toBeNull()
    rolled.app.unmount()
  })

  it('stays open when the retry is refused', async () => {
    const refused = Promise.reject(new Error('409'))
    refused.catch(() => undefined)
    const onRetry = vi.fn(() => refused)
    const { app, show } = mountModal(failedJob(), 'oracle', onRetry)
    await nextTick()
    retryButton().click()
    expect(onRetry).toHaveBeenCalledWith('failed_statement')
    await Promise.allSettled([refused])
    await nextTick()
    expect(show.value).toBe(true)
    expect(byTestId('retry-dialog')).not.toBeNull()
    app.unmount()
  })
})

describe('which retries repeat committed statements', () => {
  it('counts every failed run not rolled back, an unknown engine included', () => {
    const engines: Record<number, Engine> = { 1: 'postgres', 2: 'oracle' }
    const on = (ids: number[], transactional: boolean) =>
      retryRepeatsCommitted(
        failedJob({ transactional, scripts: [script({ runs: ids.map((id) => run({ id, status: 'error', target_id: id })) })] }),
        (id) => engines[id],
      )
    expect(on([1], true)).toBe(false)
    expect(on([1], false)).toBe(true)
    expect(on([1, 2], true)).toBe(true)
    expect(on([9], true)).toBe(true)
  })
})
