// The one HTTP transport of the app: every call to `/api` goes through the
// typed client `api` (openapi-fetch over the generated `paths`, so paths,
// parameters, bodies and answers are checked against schema.d.ts) and is
// settled by `call`, so error toasts and the 401 → login redirect live in one
// place. The UI wires the hooks in main.ts; tests wire fakes.
import createClient from 'openapi-fetch'
import type { paths } from './schema'
import { localizeServer } from '@/locales'

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
    /** The message's stable code and values (ErrorBody); `message` is already in the user's language. */
    readonly reason: string | null = null,
    readonly params: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function isApiError(err: unknown, status?: number): err is ApiError {
  return err instanceof ApiError && (status === undefined || err.status === status)
}

/** The statuses of bad input, both naming `field`: 400 breaks the API document, 422 is content
 * the document allows and the server refuses (SQL that is not a query, an id of nothing). */
export const INPUT_ERRORS = [400, 422] as const

/** A refusal of the input, shown on the field it names. */
export function isInputError(err: unknown): err is ApiError {
  return err instanceof ApiError && (INPUT_ERRORS as readonly number[]).includes(err.status)
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

/** A query string without its `?`; empty filters mean "no filter", not "match the empty string". */
export function queryString(query: object = {}): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query) as [string, QueryValue][]) {
    if (value === undefined || value === null || value === '') continue
    params.append(key, String(value))
  }
  return params.toString()
}

/** A URL the browser opens itself (event streams, CSV downloads). */
export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const qs = queryString(query)
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`
}

/**
 * The typed client. Its paths carry the `/api` prefix, as in the OpenAPI document.
 * `fetch` is looked up at each call (not captured once), so tests can replace it.
 */
export const api = createClient<paths>({
  baseUrl: '',
  // The session is an HttpOnly cookie; the UI never holds a token. A cookie change also
  // needs the browser's Origin header, which fetch sends by itself.
  credentials: 'same-origin',
  headers: { Accept: 'application/json' },
  querySerializer: (query) => queryString(query),
  fetch: (request) => globalThis.fetch(request),
})

/** What every method of `api` resolves to, reduced to what `call` reads. */
interface Outcome<T> {
  data?: T
  error?: unknown
  response: Response
}

interface ErrorBody {
  error: string
  message: string
  field?: string | null
  reason?: string | null
  params?: Record<string, unknown>
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null) return false
  const b = body as Record<string, unknown>
  return typeof b.error === 'string' && typeof b.message === 'string'
}

function toApiError(res: Response, body: unknown): ApiError {
  const retry = Number.parseInt(res.headers.get('retry-after') ?? '', 10)
  const retryAfter = Number.isFinite(retry) ? retry : null
  if (isErrorBody(body)) {
    const params = body.params ?? {}
    const message = localizeServer(body.reason, params) ?? body.message
    return new ApiError(res.status, body.error, message, body.field ?? null, retryAfter, body.reason ?? null, params)
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

/**
 * Sends one request of the typed client and settles it: the answer's data, or
 * an `ApiError` (toasted unless silenced; a 401 sends the user to the login page).
 * `send` gets the abort signal to pass on.
 */
export async function call<T>(
  opts: RequestOptions | undefined,
  send: (init: { signal?: AbortSignal }) => Promise<Outcome<T>>,
): Promise<T> {
  const o = opts ?? {}
  let outcome: Outcome<T>
  try {
    outcome = await send(o.signal ? { signal: o.signal } : {})
  } catch (cause) {
    // An abort is the caller's decision, not an error to show.
    if (cause instanceof Error && cause.name === 'AbortError') throw cause
    // A 2xx whose body is not JSON: the server did not answer as documented.
    if (cause instanceof SyntaxError) return fail(new ApiError(200, BAD_RESPONSE, cause.message), o)
    const reason = cause instanceof Error ? cause.message : String(cause)
    return fail(new ApiError(0, NETWORK_ERROR, reason), o)
  }
  const { response } = outcome
  if (!response.ok) return fail(toApiError(response, outcome.error), o)
  return outcome.data as T
}
