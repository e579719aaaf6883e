import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryTransport, createServer, type SwitchboardServer } from '@switchboard/server'
import { Switchboard, type TransportFactory } from '@switchboard/client'
import { waitFor } from '../support/wait.js'

/**
 * The session core over a transport with no sockets at all: proves SSE, long-polling or any
 * other transport can plug in without touching sessions or channels.
 */
function memoryFactory(server: SwitchboardServer): TransportFactory {
  return (_url, events) => {
    const { transport, peer } = createMemoryTransport('test-peer')
    peer.onFrame = (frame) => events.onFrame(frame)
    peer.onClose = (code, reason) => events.onClose(code, reason)
    const sink = server.accept(transport)
    transport.sink = sink
    queueMicrotask(() => events.onOpen())
    return { send: (f) => peer.send(f), close: (code, reason) => peer.close(code, reason) }
  }
}

let server: SwitchboardServer | undefined
const clients: Switchboard[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
})

describe('in-memory transport', () => {
  it('runs the full client over sessions with no network', async () => {
    server = createServer({ log: { level: 'silent' }, channels: { '**': { history: { size: 10 } } } })
    await server.ready
    const make = () => {
      const sb = new Switchboard('http://in-memory.invalid', { transport: memoryFactory(server!) })
      clients.push(sb)
      return sb
    }
    const [a, b] = [make(), make()]
    await Promise.all([a.connect(), b.connect()])
    expect(server.connectionCount()).toBe(2)
    const got: unknown[] = []
    await b.subscribe('mem/1', (d) => got.push(d)).ready
    expect((await a.publish('mem/1', { hello: 'memory' })).offset).toBe(1)
    await waitFor(() => got.length === 1, 'delivery')
    expect(got[0]).toEqual({ hello: 'memory' })
    expect((await a.history('mem/1')).publications).toHaveLength(1)
    await a.close()
    await waitFor(() => server!.connectionCount() === 1, 'session cleanup')
  })
})
