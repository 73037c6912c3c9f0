// One live event stream (Server-Sent Events) from the API. The browser's
// EventSource sends the session cookie (same origin). On any failure the stream
// is closed and reported once: the caller falls back to polling rather than
// letting EventSource reconnect forever.

/** Event name → handler of its JSON payload. */
export type EventHandlers<Events> = { [Name in keyof Events & string]: (data: Events[Name]) => void }

export interface StreamOptions<Events> {
  /** The event after which the server closes the stream; it is closed here first, so no reconnect starts. */
  end: keyof Events & string
  /** The stream could not open, broke, sent a payload that is not JSON, or the server sent an `error` event. */
  error: () => void
}

/** Opens the stream; the returned function closes it (idempotent). */
export function openEventStream<Events>(
  url: string,
  handlers: EventHandlers<Events>,
  opts: StreamOptions<Events>,
): () => void {
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

  for (const name of Object.keys(handlers) as (keyof Events & string)[]) {
    const handle = handlers[name]
    source.addEventListener(name, (ev) => {
      if (closed) return
      let data: Events[typeof name]
      try {
        data = JSON.parse((ev as MessageEvent<string>).data) as Events[typeof name]
      } catch {
        fail()
        return
      }
      if (name === opts.end) close()
      handle(data)
    })
  }
  // Both a broken connection and the server's own `error` event arrive here.
  source.addEventListener('error', fail)
  return close
}
