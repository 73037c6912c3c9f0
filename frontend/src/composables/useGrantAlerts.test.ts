import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, defineComponent, h } from 'vue'
import { configureHttp } from '@/api/http'
import { apiError, json, mockApi } from '@/test/mockApi'
import { useGrantAlerts, type GrantAlerts } from './useGrantAlerts'

beforeEach(() => {
  vi.useFakeTimers()
  configureHttp({ onError: vi.fn() })
})
afterEach(() => {
  vi.useRealTimers()
})

function mountAlerts(enabled = () => true) {
  let alerts: GrantAlerts | null = null
  const app = createApp(
    defineComponent({
      setup() {
        alerts = useGrantAlerts(enabled, 1000)
        return () => h('div')
      },
    }),
  )
  app.mount(document.createElement('div'))
  return { alerts: alerts!, app }
}

function setHidden(hidden: boolean): void {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden })
  document.dispatchEvent(new Event('visibilitychange'))
}

describe('the admins’ grant alerts', () => {
  it('counts restore failures and conflicts, polling each status silently', async () => {
    const onError = vi.fn()
    configureHttp({ onError })
    const api = mockApi({ 'GET /api/grants': [json(200, [{ id: 1 }, { id: 2 }]), json(200, [{ id: 3 }])] })
    const { alerts, app } = mountAlerts()
    await vi.advanceTimersByTimeAsync(0)

    expect(api.calls.map((c) => c.query.get('status')).sort()).toEqual(['conflict', 'restore_failed'])
    expect(alerts.failed.value + alerts.conflict.value).toBe(3)
    app.unmount()
  })

  it('backs off after a failure, and stops polling in a hidden tab until it is shown again', async () => {
    const onError = vi.fn()
    configureHttp({ onError })
    const api = mockApi({ 'GET /api/grants': [apiError(503, 'store_unavailable', 'down'), json(200, [])] })
    const { app } = mountAlerts()
    await vi.advanceTimersByTimeAsync(0)
    expect(api.calls).toHaveLength(2)
    expect(onError).not.toHaveBeenCalled()

    // One failure: the next poll waits twice the base (2 s), not 1 s.
    await vi.advanceTimersByTimeAsync(1500)
    expect(api.calls).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(600)
    expect(api.calls).toHaveLength(4)

    setHidden(true)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(api.calls).toHaveLength(4)
    setHidden(false)
    await vi.advanceTimersByTimeAsync(0)
    expect(api.calls).toHaveLength(6)
    app.unmount()
  })

  it('asks nothing for a user who is not an admin', async () => {
    const api = mockApi({})
    const { alerts, app } = mountAlerts(() => false)
    await vi.advanceTimersByTimeAsync(5000)
    expect(api.calls).toHaveLength(0)
    expect(alerts.failed.value).toBe(0)
    app.unmount()
  })
})
