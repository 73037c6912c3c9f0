// Queries: the console's draft, the query it shows (kept current until it
// ends), and one page of the history with its filters.
//
// Following a query: a single-target query is usually done within a second,
// so after submitting we ask for it with `wait_ms` (the server answers the
// moment it ends: one round trip). A query on several targets, or one still
// running after that wait, is followed through its event stream, which shows
// each target's result as it ends. If the stream fails we poll, each request
// itself waiting up to 2 s for the end.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { RequestOptions } from '@/api/http'
import { MAX_WAIT_MS, queriesApi, type QueryListQuery } from '@/api/queries'
import { queryEventsUrl, type QueryStreamEvents } from '@/api/queryEvents'
import type { Query, QueryInput } from '@/api/types'
import { useLiveResource } from '@/composables/useLiveResource'
import { draftFromQuery, emptyQueryDraft, type QueryDraft } from '@/utils/queryForm'
import { applyEndEvent, applyResultEvent, applyStatusEvent, isQueryEnded } from '@/utils/queries'
import { emptySubmittedFilters, type SubmittedFilters, toSubmittedQuery, usePagedList } from './pagedList'
import { forgetOnUserChange } from './reset'

export type QueryFilters = SubmittedFilters

export const DEFAULT_PER_PAGE = 20
/** The first wait for a single-target query (the most the server allows). */
export const FIRST_WAIT_MS = MAX_WAIT_MS
/** How often the query is asked for when its event stream is unavailable. */
export const POLL_INTERVAL_MS = 2000

/** How the shown query is kept current. */
export type { LiveMode as QueryLive } from '@/composables/useLiveResource'

export const toListQuery: (filters: QueryFilters, page: number, perPage: number) => QueryListQuery =
  toSubmittedQuery

export const useQueriesStore = defineStore('queries', () => {
  /** The console's form, kept while the user visits other pages. */
  const draft = ref<QueryDraft>(emptyQueryDraft())
  /** The id of the query the console shows; set before the query itself has arrived. */
  const activeId = ref<number | null>(null)

  const list = usePagedList(
    emptySubmittedFilters,
    (f, page, perPage) => queriesApi.list(toListQuery(f, page, perPage)),
    DEFAULT_PER_PAGE,
  )
  const { filters, items, total, page, perPage, loading, load, resetFilters } = list

  /** The query the console shows, kept current until it ends. */
  const follower = useLiveResource<Query, QueryStreamEvents>({
    streamUrl: queryEventsUrl,
    fetch: (id, { waitMs, ...init }) => queriesApi.get(id, waitMs, init),
    idOf: (query) => query.id,
    isEnded: isQueryEnded,
    apply: { result: applyResultEvent, status: applyStatusEvent },
    applyEnd: (query, end) => applyEndEvent(query, { id: end.id, status: end.status ?? query.status }),
    pollIntervalMs: POLL_INTERVAL_MS,
    // Each poll itself waits on the server for the end.
    pollWaitMs: POLL_INTERVAL_MS,
  })
  const { current, live, endReason } = follower

  /** Submits a query and follows it; resolves with its id once the server has accepted it. */
  async function run(input: QueryInput, opts?: RequestOptions): Promise<number> {
    const { id } = await queriesApi.submit(input, opts)
    follower.clear()
    activeId.value = id
    const single = (input.target_ids?.length ?? 0) === 1
    void follower.follow(id, single ? { waitMs: FIRST_WAIT_MS } : {})
    return id
  }

  /**
   * Shows query `id` (from the history or the address), following it while it
   * runs, with its SQL and targets in the form: results never sit under another
   * text. The query already shown keeps the form as the user left it.
   */
  async function open(id: number): Promise<void> {
    if (activeId.value === id) {
      // Already shown: only resume following it (the console was left and opened again).
      if (live.value === 'off' && !endReason.value && (current.value === null || !isQueryEnded(current.value))) {
        void follower.follow(id)
      }
      return
    }
    follower.clear()
    activeId.value = id
    const query = await follower.load(id)
    if (query !== null) draft.value = draftFromQuery(query)
  }

  /** Leaving the console: stop following, but keep the query to show on return. */
  function pause(): void {
    follower.stop()
  }

  /** An empty console: the shown query is put aside (it keeps running if it runs). */
  function clearCurrent(): void {
    follower.clear()
    activeId.value = null
  }

  async function cancel(id: number): Promise<Query> {
    const query = await queriesApi.cancel(id)
    if (activeId.value === id) {
      follower.set(query)
      // Running statements end in their databases a moment later: keep following until then.
      if (isQueryEnded(query)) follower.stop()
      else if (live.value === 'off') void follower.follow(id)
    }
    return query
  }

  /**
   * Fills the console's form from an earlier query, to run it again; the
   * console starts without results. Asks for the query: the history has only
   * the start of its SQL, and not its targets.
   */
  async function runAgain(id: number): Promise<void> {
    const query = current.value?.id === id ? current.value : await queriesApi.get(id)
    clearCurrent()
    draft.value = draftFromQuery(query)
  }

  function reset(): void {
    clearCurrent()
    draft.value = emptyQueryDraft()
    list.resetList()
  }

  forgetOnUserChange(reset)
  return {
    draft,
    activeId,
    current,
    live,
    endReason,
    filters,
    items,
    total,
    page,
    perPage,
    loading,
    run,
    open,
    pause,
    clearCurrent,
    cancel,
    runAgain,
    load,
    resetFilters,
    reset,
  }
})
