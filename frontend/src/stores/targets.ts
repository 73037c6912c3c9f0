// Database targets, cached for the page's lifetime: the list is fetched once and
// kept current by the create/update/delete calls made through this store.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { RequestOptions } from '@/api/http'
import { targetsApi } from '@/api/targets'
import type { ImportReport, Target, TargetInput, TestResult } from '@/api/types'
import { engineFlavour, type EngineFlavour } from '@/utils/engines'
import { forgetOnUserChange } from './reset'

function byName(a: Target, b: Target): number {
  return a.name.localeCompare(b.name)
}

/**
 * Where the browser remembers which targets' servers turned out to be MariaDB, so the list
 * names them after a reload. Only the flavour is kept, never a version string or a setting.
 */
export const FLAVOURS_STORAGE_KEY = 'autodb.targetFlavours'

function loadFlavours(): Record<number, EngineFlavour> {
  try {
    const raw = JSON.parse(localStorage.getItem(FLAVOURS_STORAGE_KEY) ?? '{}') as unknown
    if (typeof raw !== 'object' || raw === null) return {}
    const kept: Record<number, EngineFlavour> = {}
    for (const [id, f] of Object.entries(raw)) if (/^\d+$/.test(id) && f === 'mariadb') kept[Number(id)] = 'mariadb'
    return kept
  } catch {
    return {}
  }
}

function saveFlavours(flavours: Record<number, EngineFlavour>): void {
  try {
    localStorage.setItem(FLAVOURS_STORAGE_KEY, JSON.stringify(flavours))
  } catch {
    // Storage full or refused (private mode): the names fall back to the engine's.
  }
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
  /** Targets whose server said it is more than its engine (MariaDB), from their last test. */
  const flavours = ref<Record<number, EngineFlavour>>(loadFlavours())
  let pending: Promise<Target[]> | null = null

  const allTags = computed(() => [...new Set(items.value.flatMap((t) => t.tags))].sort())

  function byId(id: number): Target | undefined {
    return items.value.find((t) => t.id === id)
  }

  /** What to call a target's engine: "MariaDB" once a test (or its last check) has shown it. */
  function flavourOf(target: Pick<Target, 'id' | 'engine'> & { health?: Target['health'] }): EngineFlavour {
    const version = target.health?.server_version
    if (version) return engineFlavour(target.engine, version)
    return flavours.value[target.id] ?? target.engine
  }

  function forgetFlavour(id: number): void {
    if (!(id in flavours.value)) return
    delete flavours.value[id]
    saveFlavours(flavours.value)
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
    forgetFlavour(id)
    return saved
  }

  async function remove(id: number): Promise<void> {
    await targetsApi.remove(id)
    items.value = items.value.filter((t) => t.id !== id)
    delete testResults.value[id]
    forgetFlavour(id)
  }

  async function test(id: number, opts?: RequestOptions): Promise<TestResult> {
    testing.value[id] = true
    try {
      const result = await targetsApi.test(id, opts)
      testResults.value[id] = result
      const engine = byId(id)?.engine
      if (engine && result.server_version) {
        const flavour = engineFlavour(engine, result.server_version)
        if (flavour === engine) forgetFlavour(id)
        else {
          flavours.value[id] = flavour
          saveFlavours(flavours.value)
        }
      }
      // The server recorded the result as the target's health: show it in the list.
      try {
        const fresh = await targetsApi.get(id, { silent: true })
        items.value = items.value.map((t) => (t.id === id ? fresh : t))
      } catch {
        // The list shows the health at its next fetch.
      }
      return result
    } finally {
      testing.value[id] = false
    }
  }

  /** Tests the form's settings before they are saved: a new target, or edits of `id`. */
  function testDraft(input: TargetInput, id?: number, opts?: RequestOptions): Promise<TestResult> {
    if (id === undefined) return targetsApi.testUnsaved(input, opts)
    return targetsApi.test(id, opts, input)
  }

  /** Imports targets from CSV; created ones join the list. */
  async function importCsv(csv: string, dryRun: boolean, opts?: RequestOptions): Promise<ImportReport> {
    const report = await targetsApi.import({ csv, dry_run: dryRun }, opts)
    if (report.created > 0) await fetchAll(true)
    return report
  }

  function reset(): void {
    items.value = []
    loaded.value = false
    testResults.value = {}
    testing.value = {}
  }

  forgetOnUserChange(reset)
  return {
    items,
    loaded,
    loading,
    testResults,
    testing,
    flavours,
    allTags,
    byId,
    flavourOf,
    fetchAll,
    create,
    update,
    remove,
    test,
    testDraft,
    importCsv,
    reset,
  }
})
