// The Transport contract (transport.contract.ts) for the SDK's SSE and long-polling transports:
// the real routes on a loopback port, and an HTTP peer that plays the client's transport.
import http from 'node:http'
import { FlushScheduler } from '../../session/flush-scheduler.js'
import { HeldPolls } from '../longpoll/held-polls.js'
import type { AddressInfo } from 'node:net'
import { systemClock } from '../../clock.js'
import { ClientAddresses } from '../../http/client-address.js'
import { Router } from '../../http/router.js'
import { ConnectionGate } from '../../limits/connection-gate.js'
import { RequestsPerIp } from '../../limits/requests-per-ip.js'
import { describeTransportContract, type PeerEvents } from '../transport.contract.js'
import type { Transport, TransportSink } from '../transport.js'
import type { FallbackKind } from './fallback-transport.js'
import { fallbackRoutes } from './routes.js'
import { LocalSessionDirectory } from './session-directory.js'

/** The publications in one frame (a message or a batch). */
function deliver(frame: unknown, events: PeerEvents): void {
  for (const m of (Array.isArray(frame) ? frame : [frame]) as { t: string; d: unknown }[]) {
    if (m.t === 'msg') events.message(m.d)
  }
}

async function startRoutes(accept: (t: Transport) => TransportSink) {
  const router = new Router()
  for (const [path, handler] of fallbackRoutes({
    accept,
    cors: [],
    accepting: () => true,
    gate: new ConnectionGate(new ClientAddresses([]), 100),
    rate: new RequestsPerIp(0, 0),
    directory: new LocalSessionDirectory(systemClock, 'node-1'),
    nodeId: 'node-1',
    timers: {
      clock: systemClock,
      pollHoldMs: 25_000,
      lingerMs: 30_000,
      holds: new HeldPolls(systemClock, 25_000),
      turnEnd: new FlushScheduler(),
    },
    maxMessageBytes: 4 * 1024 * 1024,
    plainSse: (_req, res) => void res.writeHead(404).end(),
  })) {
    router.add('*', path, handler)
  }
  const server = http.createServer((req, res) => void router.handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    base,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}

/** The client's part: /connect, then numbered /send bodies, one at a time. */
async function open(base: string, kind: FallbackKind) {
  const r = await fetch(`${base}/connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ transport: kind }),
  })
  const { session, ticket } = (await r.json()) as { session: string; ticket?: string }
  let seq = 1
  let sending = Promise.resolve()
  const post = (body: object) =>
    fetch(`${base}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchboard-session': session },
      body: JSON.stringify(body),
    }).then((res) => void res.body?.cancel())
  return {
    session,
    ticket,
    send(text: string) {
      const body = { seq: seq++, frames: [text] }
      sending = sending.then(() => post(body))
    },
    goodbye: () => post({ seq, frames: [], close: true }).catch(() => {}),
  }
}

function contractFor(kind: FallbackKind) {
  return {
    async connect(accept: (t: Transport) => TransportSink, events: PeerEvents) {
      let transport: Transport | undefined
      const routes = await startRoutes((t) => accept((transport = t)))
      const client = await open(routes.base, kind)
      let closed = false
      const closedWith = (code: number | undefined) => {
        if (closed) return
        closed = true
        events.closed(code)
      }
      const controller = new AbortController()
      if (kind === 'sse') {
        const res = await new Promise<http.IncomingMessage>((resolve) =>
          http.get(`${routes.base}/sse?ticket=${client.ticket}`, { signal: controller.signal }, resolve),
        )
        let buffer = ''
        let code: number | undefined
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          buffer += chunk
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const data = /^data: (.*)$/m.exec(block)?.[1]
            if (/^event: close$/m.test(block)) code = (JSON.parse(data as string) as { code: number }).code
            else if (data) deliver(JSON.parse(data), events)
          }
        })
        res.on('close', () => closedWith(code))
        res.on('error', () => {}) // the peer's own abort
        return {
          transport: transport as Transport,
          peer: {
            send: client.send,
            close: () => controller.abort(),
            pause: () => res.pause(),
            resume: () => res.resume(),
          },
          async dispose() {
            controller.abort()
            await routes.close()
          },
        }
      }
      // Long-polling: poll, acknowledging what arrived, until paused or over.
      let received = 0
      let paused = false
      let polling = false
      const pollLoop = async () => {
        if (polling) return
        polling = true
        while (!paused && !closed) {
          let answer: { seq: number; frames: unknown[]; close?: { code: number } }
          try {
            const r = await fetch(`${routes.base}/poll`, {
              headers: { 'x-switchboard-session': client.session, 'x-switchboard-ack': String(received) },
              signal: controller.signal,
            })
            if (r.status === 404) return closedWith(undefined)
            answer = (await r.json()) as typeof answer
          } catch {
            return closedWith(undefined)
          }
          answer.frames.forEach((frame, i) => {
            if (answer.seq + i <= received) return
            received = answer.seq + i
            deliver(frame, events)
          })
          if (answer.close) closedWith(answer.close.code)
        }
        polling = false
      }
      void pollLoop()
      return {
        transport: transport as Transport,
        peer: {
          send: client.send,
          close() {
            void client.goodbye()
            controller.abort()
          },
          pause: () => void (paused = true),
          resume() {
            paused = false
            void pollLoop()
          },
        },
        async dispose() {
          controller.abort()
          await routes.close()
        },
      }
    },
  }
}

// Both carry frames up (POST /send); both keep what the peer has not taken (the stream's
// socket buffer for SSE, the unacknowledged frames for long-polling) in bufferedBytes.
describeTransportContract('sse (SDK stream + POST /send)', contractFor('sse'), { inbound: true, backpressure: true })
describeTransportContract('longpoll', contractFor('longpoll'), { inbound: true, backpressure: true })
