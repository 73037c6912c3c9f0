// User accounts (admin only).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { RequestOptions } from '@/api/http'
import { usersApi } from '@/api/users'
import type { NewUser, Role, User, UserUpdate } from '@/api/types'
import { forgetOnUserChange } from './reset'

export const useUsersStore = defineStore('users', () => {
  const items = ref<User[]>([])
  const loaded = ref(false)
  const loading = ref(false)

  async function fetchAll(): Promise<User[]> {
    loading.value = true
    try {
      const list = await usersApi.list()
      items.value = [...list].sort((a, b) => a.username.localeCompare(b.username))
      loaded.value = true
      return items.value
    } finally {
      loading.value = false
    }
  }

  async function create(input: NewUser, opts?: RequestOptions): Promise<User> {
    const user = await usersApi.create(input, opts)
    items.value = [...items.value, user].sort((a, b) => a.username.localeCompare(b.username))
    return user
  }

  async function update(id: number, patch: UserUpdate, opts?: RequestOptions): Promise<User> {
    const user = await usersApi.update(id, patch, opts)
    items.value = items.value.map((u) => (u.id === id ? user : u))
    return user
  }

  const setRole = (id: number, role: Role) => update(id, { role })
  const setDisabled = (id: number, disabled: boolean) => update(id, { disabled })
  const resetPassword = (id: number, password: string, opts?: RequestOptions) =>
    update(id, { password }, opts)

  function reset(): void {
    items.value = []
    loaded.value = false
  }

  forgetOnUserChange(reset)
  return { items, loaded, loading, fetchAll, create, update, setRole, setDisabled, resetPassword, reset }
})
