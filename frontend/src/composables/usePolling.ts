// Asks again by itself while something is unfinished (a list with running jobs):
// `tick` every `minMs` at first, the delay growing by `factor` up to `maxMs` while
// nothing changes or the request fails, back to `minMs` once something changed.
// Nothing is asked while the tab is hidden; showing it again asks at once. Stops
// with the effect scope it was created in (a component).
import { getCurrentScope, onScopeDispose, watch, type WatchSource } from 'vue'

export interface PollingOptions {
  /** Poll only while this is true. */
  when: WatchSource<boolean>
  minMs?: number
  maxMs?: number
  factor?: number
}

export const DEFAULT_MIN_MS = 2000
export const DEFAULT_MAX_MS = 30_000
export const DEFAULT_FACTOR = 1.5

/** `tick` resolves true when its answer changed something (the delay starts over). */
export function usePolling(tick: () => Promise<boolean>, opts: PollingOptions) {
  const minMs = opts.minMs ?? DEFAULT_MIN_MS
  const maxMs = opts.maxMs ?? DEFAULT_MAX_MS
  const factor = opts.factor ?? DEFAULT_FACTOR

  let active = false
  let delay = minMs
  let timer: ReturnType<typeof setTimeout> | null = null
  let running = false

  const hidden = () => typeof document !== 'undefined' && document.hidden

  function clear(): void {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  function schedule(): void {
    clear()
    if (active && !hidden() && !running) timer = setTimeout(() => void run(), delay)
  }

  async function run(): Promise<void> {
    timer = null
    if (!active || hidden() || running) return
    running = true
    let changed = false
    try {
      changed = await tick()
    } catch {
      // Quiet: the next ask comes later, as when nothing changed.
    } finally {
      running = false
    }
    delay = changed ? minMs : Math.min(maxMs, Math.round(delay * factor))
    schedule()
  }

  function onVisibility(): void {
    if (hidden()) return clear()
    // Back in view: what is shown may be long out of date.
    delay = minMs
    if (active) void run()
  }

  const stopWatch = watch(
    opts.when,
    (on) => {
      active = on
      if (on) {
        delay = minMs
        schedule()
      } else {
        clear()
      }
    },
    { immediate: true },
  )
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisibility)

  function stop(): void {
    active = false
    clear()
    stopWatch()
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility)
  }

  if (getCurrentScope()) onScopeDispose(stop)

  return { stop }
}
