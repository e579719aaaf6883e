// SPEC §5: choosing a transport, falling back, remembering, probing WebSocket again and switching
// over without losing, repeating or reordering anything; and the long-polling guarantees when a
// TCP connection is cut in the middle of a poll or a /send.
import http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import type { TransportName } from '@switchboard/client'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const proxied = async (port: number) => res.add(await new TcpProxy(port).start(), (p) => p.close())
const HISTORY = { channels: { 'feed/**': { history: { size: 10_000, ttl: '10m' } } } }

describe('choosing a transport', () => {
  it('behind a proxy that refuses WebSocket, a default client falls back to SSE and says so', async () => {
    const { port } = await res.server()
    const proxy = await proxied(port)
    proxy.refuseUpgrades()
    const sb = res.client(proxy.url, { transports: ['websocket', 'sse', 'longpoll'] })
    const announced = nextEvent<TransportName>((l) => sb.on('transport', l), 'the transport event')
    expect(sb.transport).toBeNull()
    await sb.connect()
    expect(await announced).toBe('sse')
    expect(sb.transport).toBe('sse')
    expect(proxy.requests.slice(0, 3)).toEqual([
      'GET /ws',
      'POST /connect',
      expect.stringMatching(/^GET \/sse\?ticket=/),
    ])
    // Every feature rides on it: a round trip through the server.
    const got: unknown[] = []
    await sb.subscribe('feed/a', (d) => got.push(d)).ready
    await sb.publish('feed/a', 'hello')
    await waitFor(() => got.length === 1, 'the publication back')
  })

  it('the transport that worked is tried first on the next reconnect', async () => {
    const { port, server } = await res.server()
    const proxy = await proxied(port)
    proxy.refuseUpgrades()
    const sb = await res.connected(proxy.url, { transports: ['websocket', 'longpoll'] })
    expect(sb.transport).toBe('longpoll')
    const firstId = sb.clientId
    // An attempt caught by the proxy coming back up may end on WebSocket, which the proxy still
    // refuses (404): the client reports that attempt as UNAVAILABLE, and nothing else.
    const errors: string[] = []
    sb.on('error', (e) => errors.push(e.code))
    proxy.down(true) // refused connections are read for their request line first
    await waitFor(() => sb.state === 'reconnecting', 'the drop noticed')
    // Every attempt while it is down opens long-polling first, WebSocket only once that failed.
    await waitFor(() => proxy.refused.includes('GET /ws'), 'an attempt to have tried both')
    const before = proxy.requests.length
    proxy.up()
    await waitFor(() => sb.state === 'connected' && sb.clientId !== firstId, 'reconnected')
    const opens = proxy.refused.filter((r) => r === 'POST /connect' || r === 'GET /ws')
    expect(opens.length).toBeGreaterThanOrEqual(2)
    opens.forEach((r, i) => expect(r).toBe(i % 2 === 0 ? 'POST /connect' : 'GET /ws'))
    // Up again: the attempt that got through ended on long-polling (an attempt caught by the
    // moment the proxy came up may have gone on to WebSocket first, which is still refused).
    expect(proxy.requests.slice(before)).toContain('POST /connect')
    expect(sb.transport).toBe('longpoll')
    expect(errors.filter((code) => code !== 'UNAVAILABLE')).toEqual([])
    // Back in touch, the client also said goodbye for the session it gave up: no ghost lingers.
    expect(proxy.requests.slice(before)).toContain('POST /send')
    await waitFor(() => server.connectionCount() === 1, 'the abandoned session closed')
  })

  it('a refusal by the server itself is not a reason to fall back: a bad token stops the client on WebSocket', async () => {
    const { port } = await res.server({ auth: { jwt: { secret: 'x'.repeat(32) } } })
    const proxy = await proxied(port)
    const sb = res.client(proxy.url, { token: 'not-a-jwt' })
    const errors: string[] = []
    sb.on('error', (e) => errors.push(e.code))
    await expect(sb.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' })
    expect(sb.state).toBe('closed')
    expect(errors).toEqual(['AUTH_FAILED'])
    expect(proxy.requests).toEqual(['GET /ws'])
  })
})

describe('switching back to WebSocket', () => {
  it('a client on a fallback probes WebSocket and switches over, losing, repeating and reordering nothing', async () => {
    const { url, port, server } = await res.server({
      ...HISTORY,
      limits: { messagesPerSecond: 100_000, messagesBurst: 100_000 },
    })
    const proxy = await proxied(port)
    proxy.refuseUpgrades()
    const sb = await res.connected(proxy.url, { transports: ['websocket', 'longpoll'], websocketProbeMs: 100 })
    expect(sb.transport).toBe('longpoll')
    const oldId = sb.clientId
    const publisher = await res.connected(url)

    // Downstream: a subscription without `recover` (a switch must not need it) on a busy channel.
    const got: number[] = []
    await sb.subscribe('feed/switch', (d) => got.push(d as number)).ready
    let sent = 0
    let pumping = true
    const pump = (async () => {
      while (pumping) await publisher.publish('feed/switch', sent++)
    })()
    // Upstream: the switching client keeps publishing and writing a record through the switch.
    const rec = sb.record('switch/counter')
    await rec.ready
    const acks: Promise<unknown>[] = []
    let own = 0
    const writer = setInterval(() => {
      acks.push(sb.publish('feed/own', own++), rec.update({ increment: { n: 1 } }))
    }, 2)
    res.add(writer, clearInterval)

    await waitFor(() => got.length > 50, 'deliveries over long-polling')
    const switched = nextEvent<TransportName>((l) => sb.on('transport', l), 'the switch')
    proxy.refuseUpgrades(false)
    expect(await switched).toBe('websocket')
    expect(sb.transport).toBe('websocket')
    expect(sb.state).toBe('connected')
    expect(sb.clientId).not.toBe(oldId)
    const at = got.length
    await waitFor(() => got.length > at + 50, 'deliveries over WebSocket')
    pumping = false
    clearInterval(writer)
    await pump
    await waitFor(() => got.length === sent, `all ${sent} publications`)
    expect(got).toEqual(Array.from({ length: sent }, (_, i) => i))
    // Nothing the client sent was lost or doubled: every request answered, each applied once.
    await Promise.all(acks)
    const history = await server.history('feed/own', { limit: 10_000 })
    expect(history.publications.map((p) => p.data)).toEqual(Array.from({ length: own }, (_, i) => i))
    expect((await server.records.get('switch/counter'))?.data).toEqual({ n: own })
    await waitFor(() => rec.get('n') === own, 'the local record at the final value')
    // The old session is gone from the server.
    await waitFor(() => server.connectionCount() === 2, 'the long-polling session closed')
  })

  it('a probe that fails leaves the client where it was', async () => {
    const { port } = await res.server()
    const proxy = await proxied(port)
    proxy.refuseUpgrades()
    const sb = await res.connected(proxy.url, { transports: ['websocket', 'sse'], websocketProbeMs: 50 })
    const id = sb.clientId
    const upgrades = () => proxy.requests.filter((r) => r === 'GET /ws').length
    await waitFor(() => upgrades() >= 3, 'a few probes')
    expect(sb.transport).toBe('sse')
    expect(sb.clientId).toBe(id)
    expect(await sb.publish('feed/x', 1)).toMatchObject({ offset: 1 })
  })
})

describe('the upstream half (POST /send)', () => {
  for (const transport of ['sse', 'longpoll'] as const) {
    it(`${transport}: large messages sent together leave in bodies the server accepts`, async () => {
      const { url } = await res.server({ limits: { maxMessageBytes: 400 * 1024 } })
      const sb = await res.connected(url, { transports: [transport] })
      const id = sb.clientId
      const big = (i: number) => ({ i, pad: 'z'.repeat(300 * 1024) })
      const acks = await Promise.all([0, 1, 2, 3].map((i) => sb.publish('big/1', big(i))))
      expect(acks.map((a) => a.offset)).toEqual([1, 2, 3, 4])
      expect(sb.clientId).toBe(id)
    })
  }
})

describe('long-polling heartbeats', () => {
  it('an idle client is pinged through its polls and answers by polling again: no POST /send, no timeout', async () => {
    const { port, server } = await res.server({ server: { heartbeat: { intervalMs: 100, timeoutMs: 400 } } })
    const proxy = await proxied(port)
    const sb = await res.connected(proxy.url, { transports: ['longpoll'] })
    const id = sb.clientId
    const polls = () => proxy.requests.filter((r) => r.startsWith('GET /poll')).length
    const before = proxy.requests.length
    // Nothing but pings to answer the polls with: a dozen polls span three heartbeat timeouts.
    const start = polls()
    await waitFor(() => polls() >= start + 12, 'a dozen polls, each answered with a ping')
    expect(proxy.requests.slice(before).filter((r) => !r.startsWith('GET /poll'))).toEqual([])
    expect(sb.clientId).toBe(id) // never timed out and reconnected
    expect(sb.state).toBe('connected')
    expect(server.connectionCount()).toBe(1)
  })
})

describe('long-polling through TCP cuts', () => {
  it('a poll answer lost on its way is sent again by the next poll: nothing lost, nothing twice', async () => {
    const { url, port } = await res.server(HISTORY)
    const proxy = await proxied(port)
    const sb = await res.connected(proxy.url, { transports: ['longpoll'] })
    const id = sb.clientId
    const publisher = await res.connected(url)
    const got: number[] = []
    await sb.subscribe('feed/poll', (d) => got.push(d as number)).ready
    for (let i = 0; i < 10; i++) await publisher.publish('feed/poll', i)
    await waitFor(() => got.length === 10, 'the first ten')
    // The next poll the client sends (the one held now, or the one after it) carries one of
    // these publications in its answer, and that answer never reaches the client.
    const dropped = proxy.dropResponseTo(/^GET \/poll/m)
    await publisher.publish('feed/poll', 10)
    await publisher.publish('feed/poll', 11)
    expect(await dropped).toMatch(/"d":1[01]\b/)
    for (let i = 12; i < 20; i++) await publisher.publish('feed/poll', i)
    await waitFor(() => got.length >= 20, 'the rest')
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(sb.clientId).toBe(id) // the same session all along: no reconnect, no recovery needed
  })

  it('a /send whose answer was lost is retried and applied once', async () => {
    const { port, server } = await res.server(HISTORY)
    const proxy = await proxied(port)
    const sb = await res.connected(proxy.url, { transports: ['longpoll'] })
    const id = sb.clientId
    const rec = sb.record('cut/rec')
    await rec.ready
    const dropped = proxy.dropResponseTo(/^POST \/send/m)
    const ack = sb.publish('feed/send', 'once')
    const write = rec.update({ increment: { n: 1 } })
    expect(await dropped).toMatch(/^HTTP\/1.1 204/)
    expect(await ack).toMatchObject({ offset: 1 })
    expect(await write).toEqual({ version: 1 })
    expect(await sb.publish('feed/send', 'after')).toMatchObject({ offset: 2 })
    const history = await server.history('feed/send')
    expect(history.publications.map((p) => p.data)).toEqual(['once', 'after'])
    expect((await server.records.get('cut/rec'))?.version).toBe(1)
    expect(sb.clientId).toBe(id)
  })
})

/** The long-polling wire by hand (docs/protocol.md §13): /connect, /send, /poll. */
async function rawLongpoll(base: string) {
  const json = { 'content-type': 'application/json' }
  const opened = await fetch(`${base}/connect`, { method: 'POST', headers: json, body: '{"transport":"longpoll"}' })
  const { session } = (await opened.json()) as { session: string }
  let seq = 1
  let received = 0
  const headers = { 'x-switchboard-session': session }
  return {
    async send(...messages: object[]) {
      const body = JSON.stringify({ seq, frames: messages.map((m) => JSON.stringify(m)) })
      seq += messages.length
      expect((await fetch(`${base}/send`, { method: 'POST', headers: { ...json, ...headers }, body })).status).toBe(204)
    },
    /** One poll; acknowledges everything received before it. */
    async poll(): Promise<{ messages: { t: string }[]; close?: { code: number } }> {
      const r = await fetch(`${base}/poll`, { headers: { ...headers, 'x-switchboard-ack': String(received) } })
      const answer = (await r.json()) as { seq: number; frames: object[]; close?: { code: number } }
      received = answer.seq + answer.frames.length - 1
      return { messages: answer.frames.flat() as { t: string }[], close: answer.close }
    },
  }
}

describe('the session rules on the fallback transports', () => {
  it('long-polling: a client that stops polling is closed as a slow consumer (4002), and told so', async () => {
    const { url } = await res.server({ limits: { maxBufferedBytes: 8192 } })
    const raw = await rawLongpoll(url)
    await raw.send({ t: 'hello', id: 0, v: 1 }, { t: 'sub', id: 1, ch: 'busy/1' })
    const answered: string[] = []
    while (!answered.includes('ok')) answered.push(...(await raw.poll()).messages.map((m) => m.t))
    const publisher = await res.connected(url)
    // It does not poll while these pile up on the server.
    for (let i = 0; i < 40; i++) await publisher.publish('busy/1', 'x'.repeat(400))
    const last = await raw.poll()
    expect(last.close).toEqual({ code: 4002, reason: expect.stringContaining('slow consumer') })
  })

  it('long-polling: a client that stops polling is closed with HEARTBEAT_TIMEOUT (4001), and told so', async () => {
    // Every poll counts as hearing from the client (it answers pings by polling again), so it is
    // a client that stops polling that falls silent.
    const { url, server } = await res.server({ server: { heartbeat: { intervalMs: 50, timeoutMs: 300 } } })
    const raw = await rawLongpoll(url)
    await raw.send({ t: 'hello', id: 0, v: 1 })
    const seen: string[] = []
    await waitFor(async () => {
      seen.push(...(await raw.poll()).messages.map((m) => m.t))
      return seen.includes('ping')
    }, 'a ping')
    await waitFor(() => server.connectionCount() === 0, 'the silent session closed')
    // The close waits for the next poll (the session lingers for it).
    expect((await raw.poll()).close).toMatchObject({ code: 4001 })
  })

  it('SSE: a reader that stops reading is closed as a slow consumer (4002), others keep receiving', async () => {
    const { url, server } = await res.server({ limits: { maxBufferedBytes: 64 * 1024 } })
    const json = { 'content-type': 'application/json' }
    const opened = await fetch(`${url}/connect`, { method: 'POST', headers: json, body: '{"transport":"sse"}' })
    const { session, ticket } = (await opened.json()) as { session: string; ticket: string }
    const stream = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${url}/sse?ticket=${ticket}`, resolve),
    )
    stream.pause() // reads nothing from now on: the socket buffers fill up
    const frames = (...m: object[]) => JSON.stringify({ seq: 1, frames: m.map((x) => JSON.stringify(x)) })
    const headers = { ...json, 'x-switchboard-session': session }
    const sent = await fetch(`${url}/send`, {
      method: 'POST',
      headers,
      body: frames({ t: 'hello', id: 0, v: 1 }, { t: 'sub', id: 1, ch: 'big/1' }),
    })
    expect(sent.status).toBe(204)
    const publisher = await res.connected(url)
    const healthy: unknown[] = []
    await publisher.subscribe('big/1', (d) => healthy.push(d)).ready
    expect(server.connectionCount()).toBe(2)
    let n = 0
    const chunk = 'y'.repeat(8 * 1024)
    while (server.connectionCount() === 2 && n < 5000) {
      await publisher.publish('big/1', chunk)
      n++
    }
    expect(server.connectionCount()).toBe(1)
    let text = ''
    stream.setEncoding('utf8')
    stream.on('data', (d: string) => (text += d))
    stream.resume()
    await new Promise((resolve) => stream.once('end', resolve))
    expect(text).toMatch(/event: close\ndata: \{"code":4002,/)
    await waitFor(() => healthy.length === n, 'the healthy subscriber to receive everything')
  })
})
