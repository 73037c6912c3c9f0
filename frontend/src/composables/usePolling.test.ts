import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import { usePolling } from './usePolling'

function setHidden(hidden: boolean): void {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden })
  document.dispatchEvent(new Event('visibilitychange'))
}

/** Runs `usePolling` in a scope of its own; `stop` ends the scope as an unmount would. */
function poll(tick: () => Promise<boolean>, when = ref(true)) {
  const scope = effectScope()
  scope.run(() => usePolling(tick, { when, minMs: 1000, maxMs: 4000, factor: 2 }))
  return { when, stop: () => scope.stop() }
}

beforeEach(() => {
  vi.useFakeTimers()
  setHidden(false)
})

afterEach(() => {
  vi.useRealTimers()
})

describe('usePolling', () => {
  it('asks after the first delay, then backs off while nothing changes, up to the most', async () => {
    const tick = vi.fn(() => Promise.resolve(false))
    const { stop } = poll(tick)
    await vi.advanceTimersByTimeAsync(999)
    expect(tick).toHaveBeenCalledTimes(0)
    await vi.advanceTimersByTimeAsync(1) // 1000
    expect(tick).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(2000) // +2000
    expect(tick).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(3999) // the next waits 4000
    expect(tick).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(tick).toHaveBeenCalledTimes(3)
    await vi.advanceTimersByTimeAsync(4000) // capped at 4000
    expect(tick).toHaveBeenCalledTimes(4)
    stop()
  })

  it('starts over at the first delay once an answer changed something', async () => {
    const answers = [false, false, true, false]
    const tick = vi.fn(() => Promise.resolve(answers.shift() ?? false))
    const { stop } = poll(tick)
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000)
    expect(tick).toHaveBeenCalledTimes(3)
    await vi.advanceTimersByTimeAsync(1000)
    expect(tick).toHaveBeenCalledTimes(4)
    stop()
  })

  it('backs off on a failed request and goes on asking', async () => {
    const tick = vi.fn(() => Promise.reject(new Error('network')))
    const { stop } = poll(tick)
    await vi.advanceTimersByTimeAsync(1000 + 2000)
    expect(tick).toHaveBeenCalledTimes(2)
    stop()
  })

  it('asks nothing while the tab is hidden, and asks at once when it is shown again', async () => {
    const tick = vi.fn(() => Promise.resolve(false))
    const { stop } = poll(tick)
    setHidden(true)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(tick).toHaveBeenCalledTimes(0)
    setHidden(false)
    await vi.advanceTimersByTimeAsync(0)
    expect(tick).toHaveBeenCalledTimes(1)
    // That answer changed nothing: the backoff goes on from there.
    await vi.advanceTimersByTimeAsync(2000)
    expect(tick).toHaveBeenCalledTimes(2)
    stop()
  })

  it('asks only while `when` holds, and never after its scope ended', async () => {
    const tick = vi.fn(() => Promise.resolve(false))
    const { when, stop } = poll(tick, ref(false))
    await vi.advanceTimersByTimeAsync(10_000)
    expect(tick).toHaveBeenCalledTimes(0)
    when.value = true
    await nextTick()
    await vi.advanceTimersByTimeAsync(1000)
    expect(tick).toHaveBeenCalledTimes(1)
    when.value = false
    await nextTick()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(tick).toHaveBeenCalledTimes(1)
    when.value = true
    await nextTick()
    stop()
    await vi.advanceTimersByTimeAsync(10_000)
    setHidden(false)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(tick).toHaveBeenCalledTimes(1)
  })
})
