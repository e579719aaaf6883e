import { describe, expect, it } from 'vitest'
import { createServer, get, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ClientAddresses } from '../../http/client-address.js'
import { ConnectionGate } from '../../limits/connection-gate.js'
import { RequestsPerIp } from '../../limits/requests-per-ip.js'
import { describeTransportContract, type PeerEvents } from '../transport.contract.js'
import { EncodedFrame, type Transport, type TransportSink } from '../transport.js'
import { sseEndpoint } from './sse-endpoint.js'

/** Reads an SSE stream: publications of `channel` go to `message`, `$closed` carries the close code. */
function readEvents(res: IncomingMessage, channel: string, events: PeerEvents): void {
  let buffer = ''
  let code: number | undefined
  res.setEncoding('utf8')
  res.on('data', (chunk: string) => {
    buffer += chunk
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const fields = new Map<string, string>()
      for (const line of buffer.slice(0, end).split('\n')) {
        const m = /^(\w+): ?(.*)$/.exec(line)
        if (m) fields.set(m[1]!, m[2]!)
      }
      buffer = buffer.slice(end + 2)
      const data = fields.get('data')
      if (data === undefined) continue
      if (fields.get('event') === channel) events.message(JSON.parse(data))
      else if (fields.get('event') === '$closed') code = (JSON.parse(data) as { code: number }).code
    }
  })
  res.on('close', () => events.closed(code))
}

/** The real endpoint on an ephemeral loopback port. */
async function startEndpoint(accept: (t: Transport) => TransportSink) {
  const handler = sseEndpoint({
    accept,
    cors: [],
    maxChannels: 10,
    accepting: () => true,
    admit: new ConnectionGate(new ClientAddresses([]), 100),
    rate: new RequestsPerIp(1000, 1000),
  })
  const http = createServer((req, res) => void handler(req, res, new URL(req.url ?? '/', 'http://localhost')))
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    url: (channel: string) =>
      `http://127.0.0.1:${(http.address() as AddressInfo).port}/sse?channel=${encodeURIComponent(channel)}`,
    /** Resolves once every connection is closed. */
    async close() {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()))
      http.closeAllConnections()
      await closed
    },
  }
}

function request(url: string) {
  const req = get(url)
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('error', reject)
    req.once('response', (r) => {
      req.off('error', reject) // later errors are unexpected: unhandled, they fail the run
      resolve(r)
    })
  })
  return { req, response }
}

// A plain HTTP GET plays the peer. The harness answers the endpoint's `sub` as a session
// would, which opens the stream.
describeTransportContract(
  'sse',
  {
    async connect(accept, events, channel) {
      let transport: Transport | undefined
      const endpoint = await startEndpoint((t) => {
        const sink = accept((transport = t))
        return {
          onFrame(text) {
            sink.onFrame(text)
            const m = JSON.parse(text) as { t: string; id: number }
            if (m.t === 'sub') t.send(new EncodedFrame(JSON.stringify({ t: 'ok', id: m.id, r: { o: 0, e: 'E' } })))
          },
          onHeard: () => sink.onHeard(),
          onClose: (code, reason) => sink.onClose(code, reason),
        }
      })
      const { req, response } = request(endpoint.url(channel))
      const res = await response
      if (res.statusCode !== 200) throw new Error(`GET /sse answered ${res.statusCode}`)
      readEvents(res, channel, events)
      return {
        transport: transport!,
        peer: {
          close: () => req.destroy(),
          pause: () => res.pause(),
          resume: () => res.resume(),
        },
        async dispose() {
          req.destroy()
          await endpoint.close()
        },
      }
    },
  },
  { inbound: false, backpressure: true },
)

describe('SSE transport before the stream opened', () => {
  it('closing answers 503 UNAVAILABLE and reports onClose exactly once', async () => {
    const closes: number[] = []
    let accepted!: (t: Transport) => void
    const transport = new Promise<Transport>((resolve) => (accepted = resolve))
    const endpoint = await startEndpoint((t) => {
      accepted(t)
      return { onFrame: () => {}, onHeard: () => {}, onClose: (code) => void closes.push(code) } // never answers the sub
    })
    try {
      const { req, response } = request(endpoint.url('contract/held'))
      ;(await transport).close(4000, 'shutting down')
      const res = await response
      expect(res.statusCode).toBe(503)
      res.resume()
      await new Promise((resolve) => res.on('close', resolve))
      req.destroy()
    } finally {
      await endpoint.close()
    }
    expect(closes).toHaveLength(1)
  })
})
