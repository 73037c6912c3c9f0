// Calls that come in quick succession (keystrokes) become one, `ms` after the last.

export interface Debounced<A extends unknown[]> {
  (...args: A): void
  /** Drops the call still waiting, if any. */
  cancel(): void
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): Debounced<A> {
  let timer: ReturnType<typeof setTimeout> | null = null
  const cancel = () => {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }
  const debounced = (...args: A) => {
    cancel()
    timer = setTimeout(() => {
      timer = null
      fn(...args)
    }, ms)
  }
  return Object.assign(debounced, { cancel })
}
