// SPEC §5: choosing a transport, falling back, remembering, probing WebSocket again and switching
// over without losing, repeating or reordering anything; and the long-polling guarantees when a
// TCP connection is cut in the middle of a poll or a /send.
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
    proxy.down()
    await waitFor(() => sb.state === 'reconnecting', 'the drop noticed')
    const before = proxy.requests.length
    proxy.up()
    await waitFor(() => sb.state === 'connected' && sb.clientId !== firstId, 'reconnected')
    const opened = proxy.requests.slice(before).filter((r) => r === 'POST /connect' || r === 'GET /ws')
    expect(opened).toEqual(['POST /connect'])
    expect(sb.transport).toBe('longpoll')
    // Back in touch, the client also said goodbye for the session it gave up: no ghost lingers.
    expect(proxy.requests.slice(before)).toContain('POST /send')
    await waitFor(() => server.connectionCount() === 1, 'the abandoned session closed')
  })

  it('a refusal by the server itself is not a reason to fall back: a bad token fails every transport once', async () => {
    const { url } = await res.server({ auth: { jwt: { secret: 'x'.repeat(32) } } })
    const sb = res.client(url, { token: 'not-a-jwt' })
    await expect(sb.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' })
    expect(sb.state).toBe('closed')
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
    // The next poll the client sends gets this publication; that answer never reaches the client.
    const dropped = proxy.dropResponseTo(/^GET \/poll/m)
    await publisher.publish('feed/poll', 10)
    await waitFor(() => got.length === 11, 'the answer to the poll held when the trap was set')
    await publisher.publish('feed/poll', 11)
    expect(await dropped).toContain('"d":11')
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
