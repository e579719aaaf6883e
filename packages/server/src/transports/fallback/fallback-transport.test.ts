// The SSE and long-polling transports' server end, through real HTTP on a loopback port and a
// sink that records what the session would see: the invariants written on transport.ts, the
// poll acknowledgements, and upstream ordering and de-duplication.
import http from 'node:http'
import { FlushScheduler } from '../../session/flush-scheduler.js'
import { HeldPolls } from '../longpoll/held-polls.js'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ClientAddresses } from '../../http/client-address.js'
import { Router } from '../../http/router.js'
import { ConnectionGate } from '../../limits/connection-gate.js'
import { RequestsPerIp } from '../../limits/requests-per-ip.js'
import { ManualClock } from '../../testing/manual-clock.js'
import { EncodedFrame, type Transport, type TransportSink } from '../transport.js'
import type { FallbackTransport } from './fallback-transport.js'
import { fallbackRoutes } from './routes.js'
import { LocalSessionDirectory } from './session-directory.js'

interface Recorded {
  transport: FallbackTransport
  frames: string[]
  /** Polls the session was told of (`onHeard`): each is the peer showing it is alive. */
  heard: number
  closes: { code: number; reason: string }[]
}

const servers: http.Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
})

async function start(options: { lingerMs?: number; maxPerIp?: number } = {}) {
  const sessions: Recorded[] = []
  const clock = new ManualClock()
  const directory = new LocalSessionDirectory(clock, 'node-1')
  const gate = new ConnectionGate(new ClientAddresses([]), options.maxPerIp ?? 100)
  const router = new Router()
  for (const [path, handler] of fallbackRoutes({
    accept(transport: Transport): TransportSink {
      const r: Recorded = { transport: transport as FallbackTransport, frames: [], heard: 0, closes: [] }
      sessions.push(r)
      return {
        onFrame: (f) => r.frames.push(f),
        onHeard: () => r.heard++,
        onClose: (code, reason) => r.closes.push({ code, reason }),
      }
    },
    cors: ['https://app.example'],
    accepting: () => true,
    gate,
    rate: new RequestsPerIp(0, 0),
    directory,
    nodeId: 'node-1',
    timers: {
      clock,
      pollHoldMs: 25_000,
      lingerMs: options.lingerMs ?? 30_000,
      holds: new HeldPolls(clock, 25_000),
      turnEnd: new FlushScheduler(() => clock.now()),
    },
    maxMessageBytes: 1024,
    plainSse: (_req, res) => void res.writeHead(418).end(),
  })) {
    router.add('*', path, handler)
  }
  const server = http.createServer((req, res) => {
    if (!router.handle(req, res)) res.writeHead(404).end()
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  async function connect(transport: 'sse' | 'longpoll') {
    const r = await fetch(`${base}/connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transport }),
    })
    expect(r.status).toBe(200)
    const body = (await r.json()) as { session: string; ticket?: string }
    return { ...body, recorded: sessions.at(-1) as Recorded }
  }
  const send = (session: string, body: unknown) =>
    fetch(`${base}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchboard-session': session },
      body: JSON.stringify(body),
    })
  const poll = async (session: string, ack: number, signal?: AbortSignal) => {
    const r = await fetch(`${base}/poll`, {
      headers: { 'x-switchboard-session': session, 'x-switchboard-ack': String(ack) },
      signal,
    })
    return { status: r.status, body: (await r.json()) as PollBody }
  }
  return { base, clock, directory, gate, connect, send, poll }
}

interface PollBody {
  seq: number
  frames: unknown[]
  close?: { code: number; reason: string }
  error?: { code: string }
}

const frame = (m: object) => new EncodedFrame(JSON.stringify(m))

describe('long-polling', () => {
  it('holds a poll until a frame comes, and answers with every unacknowledged frame', async () => {
    const t = await start()
    const { session, recorded } = await t.connect('longpoll')
    const held = t.poll(session, 0)
    recorded.transport.send(frame({ t: 'ping' }))
    expect((await held).body).toEqual({ seq: 1, frames: [{ t: 'ping' }] })
    // Not acknowledged yet (ack 0): a poll whose answer was lost gets the same frames again.
    recorded.transport.send(frame({ t: 'pong' }))
    expect((await t.poll(session, 0)).body).toEqual({ seq: 1, frames: [{ t: 'ping' }, { t: 'pong' }] })
    expect(recorded.transport.bufferedBytes()).toBe(24)
    // Acknowledged: gone from the buffer.
    const next = t.poll(session, 2)
    recorded.transport.send(frame({ t: 'ping', n: 3 }))
    expect((await next).body).toEqual({ seq: 3, frames: [{ t: 'ping', n: 3 }] })
    expect(recorded.transport.bufferedBytes()).toBe(18)
  })

  it('answers a held poll with every frame that came in the same turn, in one answer', async () => {
    const t = await start()
    const { session, recorded } = await t.connect('longpoll')
    const held = t.poll(session, 0)
    await expect.poll(() => t.clock.pending).toBe(1) // held
    for (let n = 1; n <= 3; n++) recorded.transport.send(frame({ t: 'ping', n }))
    expect((await held).body).toEqual({ seq: 1, frames: [1, 2, 3].map((n) => ({ t: 'ping', n })) })
    expect(t.clock.pending).toBe(0) // its hold was released with the answer
  })

  it('holds an idle poll 25 s, then answers it empty; a newer poll answers an older held one', async () => {
    const t = await start()
    const { session, recorded } = await t.connect('longpoll')
    const held = t.poll(session, 0)
    await expect.poll(() => t.clock.pending).toBe(1) // the poll is held, its hold scheduled
    t.clock.advance(24_999)
    expect(t.clock.pending).toBe(1) // still held
    t.clock.advance(1)
    expect((await held).body).toEqual({ seq: 1, frames: [] })
    const first = t.poll(session, 0)
    await expect.poll(() => t.clock.pending).toBe(1)
    const second = t.poll(session, 0)
    expect((await first).body).toEqual({ seq: 1, frames: [] })
    recorded.transport.send(frame({ t: 'ping' }))
    expect((await second).body.frames).toEqual([{ t: 'ping' }])
  })

  it('every poll tells the session its peer is alive (the heartbeat hears polls: no pong needed)', async () => {
    const t = await start()
    const { session, recorded } = await t.connect('longpoll')
    expect(recorded.heard).toBe(0) // connecting is not a poll
    const held = t.poll(session, 0)
    await expect.poll(() => recorded.heard).toBe(1) // heard when it arrives, while it is held
    recorded.transport.send(frame({ t: 'ping' }))
    await held
    const controller = new AbortController()
    const next = t.poll(session, 1, controller.signal) // held: nothing to send
    await expect.poll(() => recorded.heard).toBe(2)
    controller.abort()
    await expect(next).rejects.toThrow()
    expect(recorded.frames).toEqual([]) // no frame was made up for it
  })

  it('a poll cut on its way does not end the session', async () => {
    const t = await start()
    const { session, recorded } = await t.connect('longpoll')
    const controller = new AbortController()
    const cut = t.poll(session, 0, controller.signal)
    controller.abort()
    await expect(cut).rejects.toThrow()
    recorded.transport.send(frame({ t: 'ping' }))
    expect((await t.poll(session, 0)).body.frames).toEqual([{ t: 'ping' }])
    expect(recorded.closes).toEqual([])
  })

  it('delivers the last frames with the close, then forgets the session after the linger time', async () => {
    const t = await start({ lingerMs: 30_000 })
    const { session, recorded } = await t.connect('longpoll')
    recorded.transport.send(frame({ t: 'err', code: 'AUTH_FAILED', msg: 'no' }))
    recorded.transport.close(4500, 'no')
    recorded.transport.close(4500, 'again') // no-op
    recorded.transport.send(frame({ t: 'ping' })) // no-op, never throws
    expect(recorded.closes).toEqual([{ code: 4500, reason: 'no' }]) // exactly once
    expect((await t.poll(session, 0)).body).toEqual({
      seq: 1,
      frames: [{ t: 'err', code: 'AUTH_FAILED', msg: 'no' }],
      close: { code: 4500, reason: 'no' },
    })
    expect(t.directory.size).toBe(1) // a lost answer could still be asked for again
    t.clock.advance(30_000)
    expect(t.directory.size).toBe(0)
    const after = await t.poll(session, 1)
    expect(after.status).toBe(404)
    expect(after.body.error?.code).toBe('NOT_FOUND')
  })
})

describe('POST /send', () => {
  it('hands frames to the session once and in order, whatever the retries', async () => {
    const t = await start()
    const { session, recorded } = await t.connect('longpoll')
    expect((await t.send(session, { seq: 1, frames: ['a', 'b'] })).status).toBe(204)
    // The answer to that body was lost: the client sends it again with more.
    expect((await t.send(session, { seq: 1, frames: ['a', 'b', 'c'] })).status).toBe(204)
    expect((await t.send(session, { seq: 3, frames: ['c'] })).status).toBe(204)
    // A body that skips frames is refused whole.
    const gap = await t.send(session, { seq: 6, frames: ['f'] })
    expect(gap.status).toBe(400)
    expect(recorded.frames).toEqual(['a', 'b', 'c'])
  })

  it('refuses bodies that are not {seq, frames}, unknown sessions, and ends a session on close', async () => {
    const t = await start()
    const { session, recorded } = await t.connect('longpoll')
    for (const body of [{ seq: 0, frames: [] }, { seq: 1, frames: [1] }, { seq: 1 }, { seq: 1, frames: [], x: 1 }]) {
      expect((await t.send(session, body)).status).toBe(400)
    }
    expect((await t.send('nope', { seq: 1, frames: ['a'] })).status).toBe(404)
    const noHeader = await fetch(`${t.base}/send`, { method: 'POST', body: '{"seq":1,"frames":[]}' })
    expect(noHeader.status).toBe(404)
    expect((await t.send(session, { seq: 1, frames: ['last'], close: true })).status).toBe(204)
    expect(recorded.frames).toEqual(['last'])
    expect(recorded.closes).toEqual([{ code: 1000, reason: 'closed by the client' }])
    expect((await t.send(session, { seq: 2, frames: ['x'] })).status).toBe(404)
  })

  it('a body over the hard limit is refused and closes the session with 1009', async () => {
    const t = await start()
    const { session, recorded } = await t.connect('longpoll')
    const r = await t.send(session, { seq: 1, frames: ['x'.repeat(600 * 1024)] })
    expect(r.status).toBe(413)
    expect(recorded.closes).toEqual([{ code: 1009, reason: 'a /send body exceeded the size limit' }])
  })
})

describe('the SDK event stream', () => {
  async function readUntil(r: Response, text: string): Promise<string> {
    const reader = (r.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let got = ''
    while (!got.includes(text)) {
      const { value, done } = await reader.read()
      if (done) break
      got += decoder.decode(value, { stream: true })
    }
    reader.releaseLock()
    return got
  }

  it('a single-use ticket opens the stream; frames sent before it opened come first', async () => {
    const t = await start()
    const { ticket, recorded } = await t.connect('sse')
    recorded.transport.send(frame({ t: 'welcome' }))
    const r = await fetch(`${t.base}/sse?ticket=${ticket}`)
    expect(r.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(r.headers.get('x-accel-buffering')).toBe('no')
    expect(await readUntil(r, '"welcome"')).toBe('event: ready\ndata: \n\ndata: {"t":"welcome"}\n\n')
    recorded.transport.send(frame({ t: 'ping' }))
    expect(await readUntil(r, 'ping')).toBe('data: {"t":"ping"}\n\n')
    recorded.transport.close(4000, 'bye')
    expect(await readUntil(r, 'bye')).toBe('event: close\ndata: {"code":4000,"reason":"bye"}\n\n')
    expect(recorded.closes).toEqual([{ code: 4000, reason: 'bye' }])
    // Used: the same ticket opens nothing.
    const again = await fetch(`${t.base}/sse?ticket=${ticket}`)
    expect(again.status).toBe(401)
    expect(t.directory.size).toBe(0)
  })

  it('a ticket opens nothing after 30 s', async () => {
    const t = await start()
    const { ticket } = await t.connect('sse')
    t.clock.advance(30_000)
    expect((await fetch(`${t.base}/sse?ticket=${ticket}`)).status).toBe(401)
  })

  it('a stream that breaks ends the session (onClose once) and gives the connection slot back', async () => {
    const t = await start({ maxPerIp: 1 })
    const { ticket, recorded } = await t.connect('sse')
    const refused = await fetch(`${t.base}/connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"transport":"sse"}',
    })
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as PollBody).error?.code).toBe('TOO_MANY_CONNECTIONS')
    const controller = new AbortController()
    const r = await fetch(`${t.base}/sse?ticket=${ticket}`, { signal: controller.signal })
    await readUntil(r, 'ready')
    controller.abort()
    await expect.poll(() => recorded.closes).toEqual([{ code: 1006, reason: 'the event stream closed' }])
    recorded.transport.send(frame({ t: 'ping' })) // a no-op now
    expect(t.directory.size).toBe(0)
    expect((await t.connect('sse')).session).toBeTruthy()
  })

  it('answers preflights for the configured origins only, with the session headers allowed', async () => {
    const t = await start()
    const preflight = (origin: string) =>
      fetch(`${t.base}/poll`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      })
    const ok = await preflight('https://app.example')
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(ok.headers.get('access-control-allow-headers')).toContain('X-Switchboard-Session')
    expect((await preflight('https://evil.example')).status).toBe(403)
  })
})
