// Cached resources belong to the user who loaded them: drop them all when the
// user changes, so the next user never sees the previous one's data. Each resource
// store registers its reset when it is first used; a store never used holds nothing,
// and the session store (on the login page) need not load every store's code.
import { getActivePinia, type Pinia } from 'pinia'

const resets = new WeakMap<Pinia, Set<() => void>>()

/** Called in a resource store's setup: how it forgets its data. */
export function forgetOnUserChange(reset: () => void): void {
  const pinia = getActivePinia()
  if (!pinia) return
  let set = resets.get(pinia)
  if (!set) resets.set(pinia, (set = new Set()))
  set.add(reset)
}

export function resetResourceStores(): void {
  const pinia = getActivePinia()
  if (pinia) resets.get(pinia)?.forEach((reset) => reset())
}
