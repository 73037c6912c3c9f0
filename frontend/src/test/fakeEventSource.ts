// A fake `EventSource` for unit tests: records every stream opened, and lets a
// test play the server's events or break the connection.
import { vi } from 'vitest'

type Listener = (event: Event) => void

export class FakeEventSource {
  static instances: FakeEventSource[] = []
  readonly url: string
  closed = false
  private readonly listeners = new Map<string, Listener[]>()

  constructor(url: string | URL) {
    this.url = String(url)
    FakeEventSource.instances.push(this)
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }

  close(): void {
    this.closed = true
  }

  /** The server sends `event: <type>` with `data` as JSON; a closed stream delivers nothing. */
  emit(type: string, data: unknown): void {
    this.emitRaw(type, JSON.stringify(data))
  }

  /** The server sends `event: <type>` with `data` exactly as given (e.g. not JSON). */
  emitRaw(type: string, data: string): void {
    if (this.closed) return
    const event = new MessageEvent(type, { data })
    for (const listener of this.listeners.get(type) ?? []) listener(event)
  }

  /** The connection fails, as EventSource reports it: a plain `error` event. */
  fail(): void {
    for (const listener of this.listeners.get('error') ?? []) listener(new Event('error'))
  }
}

/** Installs the fake for one test; returns the list of streams it opens. */
export function installFakeEventSource(): FakeEventSource[] {
  FakeEventSource.instances = []
  vi.stubGlobal('EventSource', FakeEventSource)
  return FakeEventSource.instances
}
