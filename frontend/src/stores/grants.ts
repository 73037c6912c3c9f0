// Temporary access: the policies the user may ask under (admins: all), the user's own
// grants, and (admins) everyone's grants under a filter. A new grant's password is handed
// back to the caller once and never kept here.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { grantsApi } from '@/api/grants'
import type { RequestOptions } from '@/api/http'
import type { CreatedGrant, Grant, GrantFilter, GrantInput, GrantPolicy, PolicyInput, PolicyRight } from '@/api/types'
import { forgetOnUserChange } from './reset'

function byName(a: GrantPolicy, b: GrantPolicy): number {
  return a.name.localeCompare(b.name)
}

function newestFirst(a: Grant, b: Grant): number {
  return b.id - a.id
}

export const useGrantsStore = defineStore('grants', () => {
  const policies = ref<GrantPolicy[]>([])
  const mine = ref<Grant[]>([])
  const all = ref<Grant[]>([])
  const loading = ref(false)
  /** The last rights check per policy id. */
  const checks = ref<Record<number, PolicyRight[]>>({})

  function policyById(id: number): GrantPolicy | undefined {
    return policies.value.find((p) => p.id === id)
  }

  /** Replaces a grant wherever it is listed (after extend/end). */
  function put(grant: Grant): void {
    const swap = (list: Grant[]) => list.map((g) => (g.id === grant.id ? grant : g))
    mine.value = swap(mine.value)
    all.value = swap(all.value)
  }

  async function fetchPolicies(opts?: RequestOptions): Promise<GrantPolicy[]> {
    policies.value = [...(await grantsApi.policies(opts))].sort(byName)
    return policies.value
  }

  /** Own grants; `username` narrows an admin's list (which holds everyone's) to their own. */
  async function fetchMine(username: string, opts?: RequestOptions): Promise<Grant[]> {
    loading.value = true
    try {
      mine.value = [...(await grantsApi.list({ user: username }, opts))].sort(newestFirst)
      return mine.value
    } finally {
      loading.value = false
    }
  }

  async function fetchAll(filter: GrantFilter = {}, opts?: RequestOptions): Promise<Grant[]> {
    loading.value = true
    try {
      all.value = [...(await grantsApi.list(filter, opts))].sort(newestFirst)
      return all.value
    } finally {
      loading.value = false
    }
  }

  /** Asks for access; the answer (with the password) goes to the caller only. */
  async function request(input: GrantInput, opts?: RequestOptions): Promise<CreatedGrant> {
    const created = await grantsApi.request(input, opts)
    try {
      const grant = await grantsApi.get(created.id, { silent: true })
      mine.value = [grant, ...mine.value.filter((g) => g.id !== grant.id)]
    } catch {
      // The history catches up on the next refresh; the password must still be shown.
    }
    return created
  }

  async function extend(id: number, durationS: number, opts?: RequestOptions): Promise<Grant> {
    const grant = await grantsApi.extend(id, durationS, opts)
    put(grant)
    return grant
  }

  async function end(id: number, opts?: RequestOptions): Promise<Grant> {
    const grant = await grantsApi.end(id, opts)
    put(grant)
    return grant
  }

  async function createPolicy(input: PolicyInput, opts?: RequestOptions): Promise<GrantPolicy> {
    const created = await grantsApi.createPolicy(input, opts)
    policies.value = [...policies.value, created].sort(byName)
    return created
  }

  async function updatePolicy(id: number, input: PolicyInput, opts?: RequestOptions): Promise<GrantPolicy> {
    const saved = await grantsApi.updatePolicy(id, input, opts)
    policies.value = policies.value.map((p) => (p.id === id ? saved : p)).sort(byName)
    delete checks.value[id]
    return saved
  }

  async function removePolicy(id: number, opts?: RequestOptions): Promise<void> {
    await grantsApi.removePolicy(id, opts)
    policies.value = policies.value.filter((p) => p.id !== id)
    delete checks.value[id]
  }

  async function check(id: number, opts?: RequestOptions): Promise<PolicyRight[]> {
    const rights = await grantsApi.checkPolicy(id, opts)
    checks.value[id] = rights
    return rights
  }

  function reset(): void {
    policies.value = []
    mine.value = []
    all.value = []
    checks.value = {}
  }

  forgetOnUserChange(reset)
  return {
    policies,
    mine,
    all,
    loading,
    checks,
    policyById,
    fetchPolicies,
    fetchMine,
    fetchAll,
    request,
    extend,
    end,
    createPolicy,
    updatePolicy,
    removePolicy,
    check,
    reset,
  }
})
