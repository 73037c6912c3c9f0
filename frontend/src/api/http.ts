// The one HTTP transport of the app: every call to `/api` goes through
// `request`, so error toasts and the 401 → login redirect live in one place.
// The UI wires the hooks in main.ts; tests wire fakes.

export const API_BASE = '/api'

/** Codes the transport makes up itself, when the server sent no ErrorBody. */
export const NETWORK_ERROR = 'network_error'
export const BAD_RESPONSE = 'bad_response'

export type QueryValue = string | number | boolean | null | undefined

export interface RequestOptions {
  /** `true` silences the error toast for every failure; a list silences only those statuses. */
  silent?: boolean | readonly number[]
  /** Do not send the user to the login page on 401 (login itself, the initial `me`). */
  skipAuthRedirect?: boolean
  query?: Record<string, QueryValue>
  signal?: AbortSignal
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The input field a 400 `invalid_input` points at. */
    readonly field: string | null = null,
    /** Seconds from `Retry-After` on a 429. */
    readonly retryAfter: number | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function isApiError(err: unknown, status?: number): err is ApiError {
  return err instanceof ApiError && (status === undefined || err.status === status)
}

export interface HttpHooks {
  /** Shows an error to the user (a toast); not called for silenced failures. */
  onError?: (err: ApiError) => void
  /** The session is gone: go to the login page. */
  onUnauthorized?: (err: ApiError) => void
}

let hooks: HttpHooks = {}

export function configureHttp(next: HttpHooks): void {
  hooks = next
}

export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) {
    // Empty filters mean "no filter", not "match the empty string".
    if (value === undefined || value === null || value === '') continue
    params.append(key, String(value))
  }
  const qs = params.toString()
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`
}

async function readJson(res: Response): Promise<unknown> {
  const type = res.headers.get('content-type') ?? ''
  if (!type.includes('json')) return undefined
  try {
    return await res.json()
  } catch {
    return undefined
  }
}

function isErrorBody(body: unknown): body is { error: string; message: string; field?: string | null } {
  if (typeof body !== 'object' || body === null) return false
  const b = body as Record<string, unknown>
  return typeof b.error === 'string' && typeof b.message === 'string'
}

async function toApiError(res: Response): Promise<ApiError> {
  const body = await readJson(res)
  const retry = Number.parseInt(res.headers.get('retry-after') ?? '', 10)
  const retryAfter = Number.isFinite(retry) ? retry : null
  if (isErrorBody(body)) {
    return new ApiError(res.status, body.error, body.message, body.field ?? null, retryAfter)
  }
  // A proxy error page (nginx 502) or an empty body: keep the status visible.
  return new ApiError(res.status, BAD_RESPONSE, `HTTP ${res.status} ${res.statusText}`.trim(), null, retryAfter)
}

function isSilenced(err: ApiError, silent: RequestOptions['silent']): boolean {
  if (silent === true) return true
  return Array.isArray(silent) && silent.includes(err.status)
}

function fail(err: ApiError, opts: RequestOptions): never {
  if (err.status === 401 && !opts.skipAuthRedirect) hooks.onUnauthorized?.(err)
  if (!isSilenced(err, opts.silent)) hooks.onError?.(err)
  throw err
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'

  let res: Response
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // The session is an HttpOnly cookie; the UI never holds a token.
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (cause) {
    // An abort is the caller's decision, not an error to show.
    if (cause instanceof Error && cause.name === 'AbortError') throw cause
    const reason = cause instanceof Error ? cause.message : String(cause)
    return fail(new ApiError(0, NETWORK_ERROR, reason), opts)
  }

  if (!res.ok) return fail(await toApiError(res), opts)
  if (res.status === 204) return undefined as T
  return (await readJson(res)) as T
}

export const http = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, undefined, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, body, opts),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, body, opts),
  delete: <T = void>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, undefined, opts),
}
