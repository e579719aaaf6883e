import type { Socket } from 'node:net'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryTransport } from '@switchboard/server'
import { ManualClock } from '@switchboard/server/contract'
import { Resources } from '../support/server.js'
import { RawClient } from '../support/raw-client.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

describe('slow consumers', () => {
  const FAST = { messagesPerSecond: 100_000, messagesBurst: 100_000 }
  const socketOf = (c: RawClient) => (c.ws as unknown as { _socket: Socket })._socket

  it('a consumer that stops reading is closed with SLOW_CONSUMER (4002); a normal subscriber keeps receiving', async () => {
    const { url, server } = await res.server({ limits: { maxBufferedBytes: '256KiB', ...FAST } })
    const normal = await res.connected(url)
    let normalGot = 0
    await normal.subscribe('firehose', () => normalGot++).ready
    const slow = res.add(await RawClient.open(url), (c) => c.close())
    slow.send({ t: 'sub', id: 1, ch: 'firehose' })
    await slow.waitFor((m) => m.t === 'ok' && m.id === 1)
    socketOf(slow).pause() // stop reading: the kernel buffers fill up
    const publisher = await res.connected(url)
    const payload = 'x'.repeat(10_000)
    let sent = 0
    while (server.connectionCount() === 3 && sent < 5000) {
      await publisher.publish('firehose', payload)
      sent++
    }
    expect(server.connectionCount()).toBe(2) // the slow one is gone
    // Read again at once: the close frame waits behind the buffered data, within the close grace period.
    socketOf(slow).resume()
    expect(await slow.waitClosed()).toEqual({
      code: 4002,
      reason: 'slow consumer: outbound buffer exceeded maxBufferedBytes',
    })
    await waitFor(() => normalGot === sent, 'the normal subscriber to get everything')
  })

  it('the SDK, cut as a slow consumer, reconnects and recovers every message (recover: true)', async () => {
    const logged: { msg?: string; client?: string }[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) })
    const { url, port, server } = await res.server(
      { channels: { 'firehose/**': { history: { size: 10_000 } } }, limits: { maxBufferedBytes: '256KiB', ...FAST } },
      { logger },
    )
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const sb = await res.connected(proxy.url)
    const errors: string[] = []
    sb.on('error', (e) => errors.push(e.code))
    const got: number[] = []
    const s = sb.subscribe('firehose/1', (d) => got.push((d as { n: number }).n), { recover: true })
    await s.ready
    const firstClientId = sb.clientId
    const publisher = await res.connected(url)
    const pad = 'x'.repeat(10_000)
    proxy.stall() // the SDK's connection stops reading
    let sent = 0
    while (server.connectionCount() === 2 && sent < 5000) await publisher.publish('firehose/1', { n: sent++, pad })
    expect(server.connectionCount()).toBe(1)
    // The server cut it as a slow consumer, not for anything else.
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'closing slow consumer', client: firstClientId }))
    // Missed while cut: several times maxBufferedBytes, so recovery has to page.
    for (let end = sent + 1000; sent < end;) await publisher.publish('firehose/1', { n: sent++, pad: 'y'.repeat(1024) })
    const recovered = nextEvent<{ missed: number; complete: boolean }>((l) => s.on('recovered', l), 'recovered')
    proxy.stall(false)
    expect(await recovered).toMatchObject({ complete: true })
    await waitFor(() => got.length >= sent, `all ${sent} messages`)
    expect(got).toEqual(Array.from({ length: sent }, (_, i) => i))
    expect(sb.clientId).not.toBe(firstClientId)
    expect(errors).toEqual(['SLOW_CONSUMER']) // the app is told why it was cut
    expect(sb.state).toBe('connected')
    // Only the slow consumer's first connection was cut: recovery itself never trips the limit.
    expect(logged.filter((l) => l.msg === 'closing slow consumer')).toHaveLength(1)
  })
})

describe('heartbeats', () => {
  const heartbeat = { intervalMs: 100, timeoutMs: 400 }

  it('the server pings an idle connection, and a client that answers stays connected', async () => {
    const { url, server } = await res.server({ server: { heartbeat } })
    const sb = await res.connected(url)
    const raw = res.add(await RawClient.open(url), (c) => c.close()) // never answers
    await raw.waitFor((m) => m.t === 'ping')
    // The silent peer timing out proves a full timeout passed; the answering client survived it.
    expect((await raw.waitClosed()).code).toBe(4001)
    expect(sb.state).toBe('connected')
    expect(server.connectionCount()).toBe(1)
  })

  it('the server closes a silent peer with HEARTBEAT_TIMEOUT (4001) once silent for the timeout, not before', async () => {
    const clock = new ManualClock()
    const { url, server } = await res.server({ server: { heartbeat } }, { clock })
    // Its hello is the last frame the server gets from it: it never answers pings.
    const silent = res.add(await RawClient.open(url), (c) => c.close())
    clock.advance(heartbeat.timeoutMs / 2)
    await silent.waitFor((m) => m.t === 'ping')
    expect(server.connectionCount()).toBe(1)
    clock.advance(heartbeat.timeoutMs / 2)
    expect(server.connectionCount()).toBe(0)
    expect((await silent.waitClosed()).code).toBe(4001)
  })

  it('a subscriber that only receives (a busy channel: never idle) is pinged too, and stays connected by answering', async () => {
    // Found by bench/reliability/slow-consumer.mjs: the server pinged only connections it had
    // sent nothing to, so a receive-only client on a busy channel never spoke and was cut with 4001.
    const clock = new ManualClock()
    const { url, server } = await res.server(
      { server: { heartbeat: { intervalMs: 1000, timeoutMs: 4000 } } },
      { clock },
    )
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    raw.send({ t: 'sub', id: 1, ch: 'busy/feed' })
    await raw.waitFor((m) => m.id === 1)
    let answered = 0
    for (let i = 0; i < 20; i++) {
      // A publication every half interval: the server always has something to send.
      await server.publish('busy/feed', i)
      await raw.waitFor((m) => m.t === 'msg' && m.d === i)
      clock.advance(500)
      const pings = raw.messages.filter((m) => m.t === 'ping').length
      if (pings > answered) {
        // Answer as a client does; a ping of ours after it comes back once the pong was handled.
        answered = pings
        raw.send({ t: 'pong' })
        raw.send({ t: 'ping' })
        const pongs = raw.messages.filter((m) => m.t === 'pong').length
        await raw.waitFor(() => raw.messages.filter((m) => m.t === 'pong').length > pongs)
      }
    }
    expect(answered).toBeGreaterThan(0)
    expect(raw.closed).toBeUndefined() // 10 s of a busy channel, with a 4 s heartbeat timeout
    expect(server.connectionCount()).toBe(1)
  })

  it('a connection that never says hello is closed with HANDSHAKE_TIMEOUT (4003), not before the timeout', async () => {
    const clock = new ManualClock()
    const { url, server } = await res.server({ server: { handshakeTimeoutMs: 200 } }, { clock })
    const c = res.add(await RawClient.open(url, { hello: false }), (x) => x.close())
    clock.advance(200)
    expect(server.connectionCount()).toBe(1)
    clock.advance(100) // the sweep after the timeout (it runs every handshakeTimeoutMs / 2)
    expect(server.connectionCount()).toBe(0)
    expect((await c.waitClosed()).code).toBe(4003)
  })

  it('a subscriber that only receives (a busy channel) is pinged, answers, and stays connected', async () => {
    const clock = new ManualClock()
    const { url, server } = await res.server(
      { server: { heartbeat: { intervalMs: 1000, timeoutMs: 3000 } } },
      { clock },
    )
    const sub = res.add(await RawClient.open(url), (c) => c.close())
    sub.send({ t: 'sub', id: 1, ch: 'busy' })
    await sub.waitFor((m) => m.t === 'ok' && m.id === 1)
    let answered = 0
    // A publication every 500 ms: the server is never silent towards it for a whole interval.
    for (let i = 0; i < 10; i++) {
      clock.advance(500)
      await server.publish('busy', i)
      await sub.waitFor((m) => m.t === 'msg' && m.d === i)
      const pings = sub.messages.filter((m) => m.t === 'ping').length
      if (pings > answered) {
        answered = pings
        // Answer like a client, then a ping of our own: its pong proves the server read the answer.
        sub.send({ t: 'pong' })
        sub.send({ t: 'ping' })
        const pongs = sub.messages.filter((m) => m.t === 'pong').length
        await sub.waitFor(() => sub.messages.filter((m) => m.t === 'pong').length > pongs)
      }
    }
    // Before: pinged only after a silent interval of its own, it never was, and the heartbeat
    // timeout cut it at 3 s for having sent nothing.
    expect(sub.closed).toBeUndefined()
    expect(server.connectionCount()).toBe(1)
    expect(answered).toBeGreaterThanOrEqual(2)
  })

  it('pings to a thousand connections due at once leave over several turns, a publication among the first', async () => {
    const clock = new ManualClock()
    const { server } = await res.server({ server: { heartbeat: { intervalMs: 1000, timeoutMs: 60_000 } } }, { clock })
    // Sessions over the in-memory transport: the sweep and the outbound queues are the real ones.
    let pings = 0
    let welcomed = 0
    const open = (onFrame: (f: string) => void) => {
      const { transport, peer } = createMemoryTransport()
      transport.sink = server.accept(transport)
      // Frames of one turn may come as one batch: look for each message kind on its own.
      peer.onFrame = (f) => {
        if (f.includes('"t":"welcome"')) welcomed++
        if (f.includes('"t":"ping"')) pings++
        onFrame(f)
      }
      peer.send(JSON.stringify({ t: 'hello', id: 1, v: 1 }))
      res.add(peer, (p) => p.close())
      return peer
    }
    const IDLE = 1000
    for (let i = 0; i < IDLE; i++) open(() => {})
    let subscribed = false
    let pingsWhenDelivered = -1
    const subscriber = open((f) => {
      if (f.includes('"t":"ok"')) subscribed = true
      else if (f.includes('"t":"msg"')) pingsWhenDelivered = pings
    })
    subscriber.send(JSON.stringify({ t: 'sub', id: 2, ch: 'hb/news' }))
    await waitFor(() => welcomed === IDLE + 1 && subscribed, 'every welcome and the subscription')
    // Their first pings fall due at random over the interval (firstPingEarlyMs), so the sweep at
    // 500 ms finds about half of them due at once, and the one at 1,000 ms the rest.
    clock.advance(1000)
    await server.publish('hb/news', 'while pinging')
    await waitFor(() => pingsWhenDelivered >= 0, 'the publication')
    // Before: all the pings due were queued in the sweep's turn, and the publication behind them.
    await waitFor(() => pings >= IDLE / 4, 'the pings of a sweep')
    expect(pingsWhenDelivered).toBeLessThan(IDLE / 4)
  })

  it('connections opened together are first pinged spread over an interval, then each keeps its phase', async () => {
    const clock = new ManualClock(0)
    const intervalMs = 10_000
    const { server } = await res.server({ server: { heartbeat: { intervalMs, timeoutMs: 120_000 } } }, { clock })
    // Over the in-memory transport (the registry's sweep is the real one): N clients connect at
    // the same moment, never send anything after their hello, and answer each ping with a pong.
    const N = 100
    const pingTimes: number[][] = Array.from({ length: N + 1 }, () => [])
    let welcomed = 0
    let probePongs = 0
    const peers = Array.from({ length: N + 1 }, (_, i) => {
      const { transport, peer } = createMemoryTransport()
      transport.sink = server.accept(transport)
      peer.onFrame = (f) => {
        if (f.includes('"t":"welcome"')) welcomed++
        if (f.includes('"t":"ping"')) {
          pingTimes[i]!.push(clock.now())
          peer.send('{"t":"pong"}')
        }
        if (f.includes('"t":"pong"')) probePongs++
      }
      peer.send(JSON.stringify({ t: 'hello', id: 1, v: 1 }))
      return res.add(peer, (p) => p.close())
    })
    await waitFor(() => welcomed === N + 1, 'every welcome')
    const probe = peers[N]!
    // A sweep every second; after each, the probe's own ping round trip: it is answered after
    // the pings that sweep queued (at most ~10 a sweep here, one slice) have gone out.
    const step = async () => {
      clock.advance(1000)
      const before = probePongs
      probe.send('{"t":"ping"}')
      await waitFor(() => probePongs > before, 'the probe answered')
    }
    for (let t = 0; t < 2 * intervalMs; t += 1000) await step()
    const first = pingTimes.slice(0, N).map((times) => times[0])
    expect(first.every((t) => t !== undefined && t <= intervalMs)).toBe(true)
    // Spread over the interval's sweeps rather than all in the last one.
    const perSweep = new Map<number, number>()
    for (const t of first) perSweep.set(t!, (perSweep.get(t!) ?? 0) + 1)
    expect(perSweep.size).toBeGreaterThanOrEqual(5)
    expect(Math.max(...perSweep.values())).toBeLessThan(N / 2)
    // The second ping of each a full interval (within a sweep) after its first: the phase stays.
    for (const times of pingTimes.slice(0, N)) {
      expect(times.length).toBeGreaterThanOrEqual(2)
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(intervalMs)
      expect(times[1]! - times[0]!).toBeLessThanOrEqual(intervalMs + 1000)
    }
  })

  it('the client detects a server gone silent and reconnects', async () => {
    const { url, port } = await res.server({ server: { heartbeat } })
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const sb = await res.connected(proxy.url)
    const got: unknown[] = []
    await sb.subscribe('hb/1', (d) => got.push(d)).ready
    const lost = nextEvent<string>((l) => sb.on('state', l), 'the client to notice')
    // Silenced, the TCP connection stays up: only the client's heartbeat check can notice.
    proxy.silence()
    expect(await lost).toBe('reconnecting')
    proxy.silence(false)
    await waitFor(() => sb.state === 'connected', 'reconnect')
    const publisher = await res.connected(url)
    await waitFor(async () => {
      await publisher.publish('hb/1', 'after')
      return got.includes('after')
    }, 'delivery after reconnect')
  })
})

describe('drain', () => {
  it('close() sends SHUTDOWN (4000) and clients reconnect elsewhere at once', async () => {
    const a = await res.server()
    const b = await res.server()
    const c = res.add(await RawClient.open(a.url), (x) => x.close())
    const sb = await res.connected([a.url, b.url], { reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } })
    await a.server.close()
    expect((await c.waitClosed()).code).toBe(4000)
    expect(a.server.state).toBe('stopped')
    // A 60 s backoff would make this wait give up: SHUTDOWN means reconnect immediately.
    await waitFor(() => sb.state === 'connected' && b.server.connectionCount() === 1, 'the client on b', 10_000)
  })
})
