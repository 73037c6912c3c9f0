// The current time, ticking once a second while `active` is true, so running
// durations count up without a request.
import { onBeforeUnmount, ref, watch, type Ref, type WatchSource } from 'vue'

export function useNow(active: WatchSource<boolean>, intervalMs = 1000): Ref<number> {
  const now = ref(Date.now())
  let timer: ReturnType<typeof setInterval> | null = null
  const stop = () => {
    if (timer !== null) clearInterval(timer)
    timer = null
  }
  watch(
    active,
    (on) => {
      stop()
      now.value = Date.now()
      if (on) timer = setInterval(() => (now.value = Date.now()), intervalMs)
    },
    { immediate: true },
  )
  onBeforeUnmount(stop)
  return now
}
