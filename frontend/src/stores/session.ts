// The signed-in user. The session itself is an HttpOnly cookie, so all the UI
// knows is what /api/auth/me answers; it asks once per page load.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { authApi } from '@/api/auth'
import { isApiError } from '@/api/http'
import type { Role, User } from '@/api/types'
import { resetResourceStores } from './reset'

export const useSessionStore = defineStore('session', () => {
  const user = ref<User | null>(null)
  /** True once /auth/me has answered (with a user or a 401). */
  const loaded = ref(false)
  let pending: Promise<void> | null = null

  const isAdmin = computed(() => user.value?.role === 'admin')
  /** Connection tests are allowed to admins and operators. */
  const canTestTargets = computed(() => hasRole('admin', 'operator'))

  function hasRole(...roles: Role[]): boolean {
    return user.value !== null && roles.includes(user.value.role)
  }

  /** Loads the current user once; concurrent callers share one request. */
  function ensureLoaded(): Promise<void> {
    if (loaded.value) return Promise.resolve()
    pending ??= authApi
      // A 401 here just means "not signed in": no toast, no redirect loop.
      .me({ silent: [401], skipAuthRedirect: true })
      .then((me) => {
        user.value = me
        loaded.value = true
      })
      .catch((err: unknown) => {
        user.value = null
        // Only a definite 401 settles the question; after a network error or a
        // 503 the next navigation asks again.
        loaded.value = isApiError(err, 401)
      })
      .finally(() => {
        pending = null
      })
    return pending
  }

  async function login(username: string, password: string): Promise<User> {
    // The login form shows 401/429 itself, so the transport stays quiet.
    const res = await authApi.login({ username, password }, { silent: true, skipAuthRedirect: true })
    resetResourceStores()
    user.value = res.user
    loaded.value = true
    return res.user
  }

  /** Never rejects: the user asked to leave, so local state goes whatever the server says. */
  async function logout(): Promise<void> {
    try {
      // A 401 means the session was already gone; other failures are toasted.
      await authApi.logout({ silent: [401], skipAuthRedirect: true })
    } catch {
      // already shown to the user by the transport (or irrelevant, for a 401)
    } finally {
      clear()
    }
  }

  /** Forgets the user and every cached resource (logout, expired session). */
  function clear(): void {
    user.value = null
    loaded.value = true
    resetResourceStores()
  }

  return { user, loaded, isAdmin, canTestTargets, hasRole, ensureLoaded, login, logout, clear }
})
