// One live event stream (Server-Sent Events) from the API. The browser's
// EventSource sends the session cookie (same origin). On any failure the stream
// is closed and reported once: the caller falls back to polling rather than
// letting EventSource reconnect forever.

/**
 * The names under which the server reports its own failure. Both streams send
 * `stream_error` (EventSource itself reports a dropped connection as `error`);
 * the query stream of older servers sent `error`, which arrives with the
 * connection errors below.
 */
export const SERVER_ERROR_EVENTS = ['stream_error'] as const

/** Event name → handler of its payload, parsed from JSON but not checked. */
export type RawHandlers = Record<string, (data: unknown) => void>

export interface StreamOptions {
  /** The event after which the server closes the stream; it is closed here first, so no reconnect starts. */
  end: string
  /** The stream could not open, broke, sent a payload that is not JSON, or the server reported a failure. */
  error: () => void
}

/** Opens the stream; the returned function closes it (idempotent). */
export function openEventStream(url: string, handlers: RawHandlers, opts: StreamOptions): () => void {
  const source = new EventSource(url)
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    source.close()
  }
  const fail = (): void => {
    if (closed) return
    close()
    opts.error()
  }

  for (const [name, handle] of Object.entries(handlers)) {
    source.addEventListener(name, (ev) => {
      if (closed) return
      let data: unknown
      try {
        data = JSON.parse((ev as MessageEvent<string>).data)
      } catch {
        fail()
        return
      }
      if (name === opts.end) close()
      handle(data)
    })
  }
  for (const name of SERVER_ERROR_EVENTS) source.addEventListener(name, fail)
  // Both a broken connection and an older server's own `error` event arrive here.
  source.addEventListener('error', fail)
  return close
}
