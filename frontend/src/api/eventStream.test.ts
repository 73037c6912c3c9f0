import { beforeEach, describe, expect, it, vi } from 'vitest'
import { installFakeEventSource, type FakeEventSource } from '@/test/fakeEventSource'
import { openEventStream } from './eventStream'

let streams: FakeEventSource[]

beforeEach(() => {
  streams = installFakeEventSource()
})

function open() {
  const handlers = { tick: vi.fn<(d: unknown) => void>(), end: vi.fn<(d: unknown) => void>() }
  const error = vi.fn<() => void>()
  const close = openEventStream('/api/things/1/events', handlers, { end: 'end', error })
  return { handlers, error, close, stream: streams[0]! }
}

describe('event stream', () => {
  it('hands each event its parsed payload, and closes itself before handing over the end', () => {
    const { handlers, stream } = open()
    let closedAtEnd: boolean | null = null
    handlers.end.mockImplementation(() => (closedAtEnd = stream.closed))

    stream.emit('tick', { n: 1 })
    stream.emit('end', { done: true })
    stream.emit('tick', { n: 2 })

    expect(handlers.tick.mock.calls).toEqual([[{ n: 1 }]])
    expect(closedAtEnd).toBe(true)
  })

  it('closes and reports once when a payload is not JSON or the connection breaks', () => {
    const { handlers, error, stream } = open()
    stream.emitRaw('tick', '{not json')
    expect(stream.closed).toBe(true)
    expect(error).toHaveBeenCalledOnce()

    stream.fail()
    expect(error).toHaveBeenCalledOnce()
    expect(handlers.tick).not.toHaveBeenCalled()
  })

  it("closes and reports the server's own stream_error event", () => {
    const { handlers, error, stream } = open()
    stream.emit('stream_error', { message: 'store unavailable' })
    stream.emit('tick', { n: 1 })
    expect(stream.closed).toBe(true)
    expect(error).toHaveBeenCalledOnce()
    expect(handlers.tick).not.toHaveBeenCalled()
  })

  it('reports nothing once the caller has closed it', () => {
    const { error, close, stream } = open()
    close()
    stream.fail()
    expect(error).not.toHaveBeenCalled()
  })
})
