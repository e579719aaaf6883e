import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import * as wsModule from 'ws'
import { WebSocket } from 'ws'
import { describeTransportContract } from '../transport.contract.js'
import type { Transport } from '../transport.js'
import { WebSocketEndpoint } from './websocket-endpoint.js'
import { frameText } from './websocket-transport.js'

// Real sockets over loopback: the endpoint upgrades, a `ws` client plays the peer.
describeTransportContract(
  'websocket',
  {
    async connect(accept, events) {
      let transport: Transport | undefined
      const endpoint = new WebSocketEndpoint((t) => accept((transport = t)), { maxPayload: 16 * 1024 * 1024 })
      const http = createServer()
      http.on('upgrade', (req, socket, head) => endpoint.handleUpgrade(req, socket, head))
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
      const ws = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`)
      ws.on('message', (data) => {
        const value = JSON.parse(data.toString()) as { t: string; d: unknown } | { t: string; d: unknown }[]
        for (const m of Array.isArray(value) ? value : [value]) if (m.t === 'msg') events.message(m.d)
      })
      ws.on('close', (code) => events.closed(code))
      await new Promise<void>((resolve, reject) => {
        ws.once('error', reject)
        ws.once('open', () => {
          ws.off('error', reject) // later errors are unexpected: unhandled, they fail the run
          resolve()
        })
      })
      return {
        transport: transport!,
        peer: {
          send: (text) => ws.send(text),
          close: () => ws.close(1000, 'peer leaves'),
          pause: () => ws.pause(),
          resume: () => ws.resume(),
        },
        async dispose() {
          ws.terminate()
          // Resolves once every connection of this server is closed.
          const closed = new Promise<void>((resolve) => http.close(() => resolve()))
          http.closeAllConnections()
          await closed
        },
      }
    },
  },
  { inbound: true, backpressure: true },
)

// Our framing must produce exactly the bytes ws's own Sender does, at every length boundary.
describe('frameText', () => {
  const { Sender } = wsModule as unknown as {
    Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] }
  }
  const wsFrame = (text: string) =>
    Buffer.concat(Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }))
  it.each([0, 1, 125, 126, 127, 65535, 65536, 70000])('a %i-byte text', (n) => {
    const text = 'x'.repeat(n)
    expect(frameText(text).equals(wsFrame(text))).toBe(true)
  })
  it('multi-byte UTF-8, length counted in bytes', () => {
    const text = 'é€😀'.repeat(30) // 270 bytes, 120 UTF-16 units: crosses 126 only in bytes
    expect(frameText(text).equals(wsFrame(text))).toBe(true)
  })
})

// ws's receiver makes a new fragment list after every message; an idle connection's list gets
// promoted and then drags each next payload into the old generation (see reuseFragmentList).
describe('fragment list reuse', () => {
  it('the receiver keeps one fragment list across messages, and fragmented messages still arrive whole', async () => {
    const frames: string[] = []
    let server: WebSocket | undefined
    let connected!: () => void
    const accepted = new Promise<void>((resolve) => (connected = resolve))
    const endpoint = new WebSocketEndpoint(
      (transport) => {
        server = (transport as unknown as { ws: WebSocket }).ws // the server side of the connection
        connected()
        return { onFrame: (f) => void frames.push(f), onClose: () => {} }
      },
      { maxPayload: 1024 },
    )
    const http = createServer()
    http.on('upgrade', (req, socket, head) => endpoint.handleUpgrade(req, socket, head))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`)
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('error', reject)
        client.once('open', () => resolve())
      })
      await accepted
      const lists: unknown[] = []
      const listOf = () => (server as unknown as { _receiver: { _fragments: unknown } })._receiver._fragments
      const arrived = (n: number) =>
        new Promise<void>((resolve) => {
          const check = () => (frames.length >= n ? resolve() : setImmediate(check))
          check()
        })
      client.send('a')
      await arrived(1)
      lists.push(listOf())
      client.send('b')
      await arrived(2)
      lists.push(listOf())
      client.send('hel', { fin: false })
      client.send('lo', { fin: true })
      await arrived(3)
      lists.push(listOf())
      expect(frames).toEqual(['a', 'b', 'hello'])
      expect(lists[1]).toBe(lists[0])
      expect(lists[2]).toBe(lists[0])
      expect(lists[0]).toEqual([])
    } finally {
      client.terminate()
      const closed = new Promise<void>((resolve) => http.close(() => resolve()))
      http.closeAllConnections()
      await closed
    }
  })
})
