// Admins' watch on grants that need a person: `restore_failed` and `conflict`. Polls with
// backoff on failure and pauses while the tab is hidden (one poll on return).
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'
import { grantsApi } from '@/api/grants'
import { nextPollDelay } from '@/utils/grants'

export interface GrantAlerts {
  failed: Ref<number>
  conflict: Ref<number>
  poll: () => Promise<void>
}

export function useGrantAlerts(enabled: () => boolean, baseMs = 30_000): GrantAlerts {
  const failed = ref(0)
  const conflict = ref(0)
  let failures = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false

  function clear(): void {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  function schedule(): void {
    clear()
    if (stopped || document.hidden) return
    timer = setTimeout(() => void poll(), nextPollDelay(failures, baseMs))
  }

  async function poll(): Promise<void> {
    if (!enabled()) {
      failed.value = 0
      conflict.value = 0
      schedule()
      return
    }
    try {
      const [f, c] = await Promise.all([
        grantsApi.list({ status: 'restore_failed' }, { silent: true }),
        grantsApi.list({ status: 'conflict' }, { silent: true }),
      ])
      failed.value = f.length
      conflict.value = c.length
      failures = 0
    } catch {
      failures += 1
    }
    schedule()
  }

  function onVisibility(): void {
    if (document.hidden) clear()
    else void poll()
  }

  onMounted(() => {
    document.addEventListener('visibilitychange', onVisibility)
    void poll()
  })
  onBeforeUnmount(() => {
    stopped = true
    clear()
    document.removeEventListener('visibilitychange', onVisibility)
  })

  return { failed, conflict, poll }
}
