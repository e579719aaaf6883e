import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket } from 'ws'
import { describeTransportContract } from '../transport.contract.js'
import type { Transport } from '../transport.js'
import { WebSocketEndpoint } from './websocket-endpoint.js'

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
