import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { debounce } from './debounce'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('debounce', () => {
  it('calls once, with the last arguments, when the calls stop for the delay', () => {
    const fn = vi.fn()
    const typed = debounce(fn, 300)
    typed('n')
    vi.advanceTimersByTime(200)
    typed('ni')
    vi.advanceTimersByTime(299)
    expect(fn).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(fn).toHaveBeenCalledWith('ni')
  })

  it('drops the waiting call when cancelled', () => {
    const fn = vi.fn()
    const typed = debounce(fn, 300)
    typed('x')
    typed.cancel()
    vi.advanceTimersByTime(1000)
    expect(fn).not.toHaveBeenCalled()
    typed('y')
    vi.advanceTimersByTime(300)
    expect(fn).toHaveBeenCalledWith('y')
  })
})
