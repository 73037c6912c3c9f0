// A fake `fetch` for unit tests: answers by "METHOD /path" (query ignored) and
// records every call, so tests can assert what was sent. The typed client sends
// a `Request`; a plain `fetch(url, init)` is understood too.
import { vi } from 'vitest'

export type Reply = Response | (() => Response | Promise<Response>)

export interface RecordedCall {
  method: string
  path: string
  query: URLSearchParams
  body: unknown
  headers: Headers
  credentials: RequestCredentials | undefined
  signal: AbortSignal | null | undefined
}

export function json(status: number, body?: unknown, headers: Record<string, string> = {}): Response {
  if (status === 204) return new Response(null, { status })
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

export function apiError(status: number, error: string, message: string, field?: string): Response {
  return json(status, field ? { error, message, field } : { error, message })
}

/**
 * Installs the fake. A route's replies are used in order; the last one repeats.
 * An unexpected call fails the test loudly rather than hanging.
 */
export function mockApi(routes: Record<string, Reply | Reply[]>) {
  const calls: RecordedCall[] = []
  const used: Record<string, number> = {}
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const request = input instanceof Request ? input : null
    const raw = request ? request.url : input instanceof URL ? input.href : (input as string)
    const url = new URL(raw, 'http://localhost')
    const method = (request?.method ?? init.method ?? 'GET').toUpperCase()
    const key = `${method} ${url.pathname}`
    const text = request ? await request.clone().text() : typeof init.body === 'string' ? init.body : ''
    const body = text ? (JSON.parse(text) as unknown) : undefined
    calls.push({
      method,
      path: url.pathname,
      query: url.searchParams,
      body,
      headers: request ? request.headers : new Headers(init.headers),
      credentials: request ? request.credentials : init.credentials,
      signal: request ? request.signal : init.signal,
    })
    const route = routes[key]
    if (route === undefined) throw new Error(`unexpected request: ${key}`)
    const replies = Array.isArray(route) ? route : [route]
    const index = Math.min(used[key] ?? 0, replies.length - 1)
    used[key] = (used[key] ?? 0) + 1
    const reply = replies[index]!
    return typeof reply === 'function' ? reply() : reply.clone()
  })
  vi.stubGlobal('fetch', fetchMock)
  return {
    calls,
    fetchMock,
    callsTo: (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path),
  }
}

/** A promise with its resolve exposed, to control the order of answers. */
export function deferred<T>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}
