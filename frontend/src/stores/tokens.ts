// The signed-in user's own API tokens. The secret of a new token is returned
// to the caller once and never stored here.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { authApi } from '@/api/auth'
import type { RequestOptions } from '@/api/http'
import type { ApiToken, CreatedApiToken } from '@/api/types'
import { forgetOnUserChange } from './reset'

export const useTokensStore = defineStore('tokens', () => {
  const items = ref<ApiToken[]>([])
  const loading = ref(false)

  async function fetchAll(): Promise<ApiToken[]> {
    loading.value = true
    try {
      items.value = await authApi.listTokens()
      return items.value
    } finally {
      loading.value = false
    }
  }

  /** `expiresInDays` null or absent: a token that does not expire. */
  async function create(name: string, expiresInDays?: number | null, opts?: RequestOptions): Promise<CreatedApiToken> {
    const body = expiresInDays ? { name, expires_in_days: expiresInDays } : { name }
    const created = await authApi.createToken(body, opts)
    items.value = [created.api_token, ...items.value]
    return created
  }

  async function revoke(id: number): Promise<void> {
    await authApi.revokeToken(id)
    items.value = items.value.filter((t) => t.id !== id)
  }

  function reset(): void {
    items.value = []
  }

  forgetOnUserChange(reset)
  return { items, loading, fetchAll, create, revoke, reset }
})
