// Database targets, cached for the page's lifetime: the list is fetched once and
// kept current by the create/update/delete calls made through this store.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { RequestOptions } from '@/api/http'
import { targetsApi } from '@/api/targets'
import type { Target, TargetInput, TestResult } from '@/api/types'

function byName(a: Target, b: Target): number {
  return a.name.localeCompare(b.name)
}

/** A cached list older than this is fetched again when a page asks for it. */
export const TARGETS_CACHE_TTL_MS = 60_000

export const useTargetsStore = defineStore('targets', () => {
  const items = ref<Target[]>([])
  const loaded = ref(false)
  const loading = ref(false)
  let fetchedAt = 0
  /** Last connection test per target id. */
  const testResults = ref<Record<number, TestResult>>({})
  const testing = ref<Record<number, boolean>>({})
  let pending: Promise<Target[]> | null = null

  const allTags = computed(() => [...new Set(items.value.flatMap((t) => t.tags))].sort())

  function byId(id: number): Target | undefined {
    return items.value.find((t) => t.id === id)
  }

  /** The cached list, or a fetch when there is none, it is stale, or `force` is set. */
  function fetchAll(force = false): Promise<Target[]> {
    const fresh = loaded.value && Date.now() - fetchedAt < TARGETS_CACHE_TTL_MS
    if (fresh && !force) return Promise.resolve(items.value)
    pending ??= (async () => {
      loading.value = true
      try {
        const list = await targetsApi.list()
        items.value = [...list].sort(byName)
        loaded.value = true
        fetchedAt = Date.now()
        return items.value
      } finally {
        loading.value = false
        pending = null
      }
    })()
    return pending
  }

  async function create(input: TargetInput, opts?: RequestOptions): Promise<Target> {
    const created = await targetsApi.create(input, opts)
    items.value = [...items.value, created].sort(byName)
    return created
  }

  async function update(id: number, input: TargetInput, opts?: RequestOptions): Promise<Target> {
    const saved = await targetsApi.update(id, input, opts)
    items.value = items.value.map((t) => (t.id === id ? saved : t)).sort(byName)
    // Settings changed: an earlier test result no longer describes this target.
    delete testResults.value[id]
    return saved
  }

  async function remove(id: number): Promise<void> {
    await targetsApi.remove(id)
    items.value = items.value.filter((t) => t.id !== id)
    delete testResults.value[id]
  }

  async function test(id: number, opts?: RequestOptions): Promise<TestResult> {
    testing.value[id] = true
    try {
      const result = await targetsApi.test(id, opts)
      testResults.value[id] = result
      return result
    } finally {
      testing.value[id] = false
    }
  }

  function reset(): void {
    items.value = []
    loaded.value = false
    testResults.value = {}
    testing.value = {}
  }

  return { items, loaded, loading, testResults, testing, allTags, byId, fetchAll, create, update, remove, test, reset }
})
