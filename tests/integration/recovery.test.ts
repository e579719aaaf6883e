import { afterEach, describe, expect, it } from 'vitest'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

async function proxied(port: number): Promise<TcpProxy> {
  return res.add(await new TcpProxy(port).start(), (p) => p.close())
}

describe('reconnection and recovery', () => {
  it('after a cut connection: reconnects, resubscribes and receives every missed message exactly once, in order', async () => {
    const { url, port } = await res.server({ channels: { 'room/**': { history: { size: 1000, ttl: '5m' } } } })
    const proxy = await proxied(port)
    const publisher = await res.connected(url)
    const sub = await res.connected(proxy.url)
    const got: number[] = []
    const s = sub.subscribe('room/1', (d) => got.push(d as number), { recover: true })
    await s.ready
    for (let i = 0; i < 10; i++) await publisher.publish('room/1', i)
    await waitFor(() => got.length === 10, 'live messages')

    const states: string[] = []
    sub.on('state', (st) => states.push(st))
    const recovered = nextEvent<{ missed: number; complete: boolean }>((l) => s.on('recovered', l), 'recovered')
    proxy.down()
    await waitFor(() => states.includes('reconnecting'), 'the client to notice the cut')
    // Published while the subscriber is away.
    for (let i = 10; i < 60; i++) await publisher.publish('room/1', i)
    proxy.up()
    const r = await recovered
    expect(r).toEqual({ missed: 50, complete: true })
    // Live again after recovery.
    for (let i = 60; i < 70; i++) await publisher.publish('room/1', i)
    await waitFor(() => got.length === 70, 'all 70 messages')
    expect(got).toEqual(Array.from({ length: 70 }, (_, i) => i))
    expect(states).toContain('reconnecting')
    expect(states.at(-1)).toBe('connected')
  })

  it('messages published during the resubscribe itself are neither lost nor duplicated', async () => {
    // The publisher runs flat out: lift the per-connection rate limit, which is not under test here.
    const { url, port } = await res.server({
      channels: { 'busy/**': { history: { size: 10_000 } } },
      limits: { messagesPerSecond: 100_000, messagesBurst: 100_000 },
    })
    const proxy = await proxied(port)
    const publisher = await res.connected(url)
    const sub = await res.connected(proxy.url)
    const got: number[] = []
    await sub.subscribe('busy/1', (d) => got.push(d as number), { recover: true }).ready
    let n = 0
    let stop = false
    // A publisher that keeps going through the cut and the recovery.
    const pumping = (async () => {
      while (!stop && n < 5000) await publisher.publish('busy/1', n++)
    })()
    await waitFor(() => got.length >= 50, 'some live messages')
    proxy.cut()
    await waitFor(() => sub.state === 'connected' && got.length > n - 5 && n > 200, 'recovery while publishing', 20_000)
    stop = true
    await pumping
    await waitFor(() => got.length === n, `all ${n} messages`)
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i))
  })

  it('beyond the history window the recovered event says complete: false', async () => {
    const { url, port } = await res.server({ channels: { 'small/**': { history: { size: 5 } } } })
    const proxy = await proxied(port)
    const publisher = await res.connected(url)
    const sub = await res.connected(proxy.url)
    const got: number[] = []
    const s = sub.subscribe('small/1', (d) => got.push(d as number), { recover: true })
    await s.ready
    await publisher.publish('small/1', 0)
    await waitFor(() => got.length === 1, 'first message')
    const recovered = nextEvent<{ missed: number; complete: boolean }>((l) => s.on('recovered', l), 'recovered')
    const lost = nextEvent((l) => sub.on('state', l), 'disconnect')
    proxy.down()
    await lost
    for (let i = 1; i <= 20; i++) await publisher.publish('small/1', i)
    proxy.up()
    const r = await recovered
    expect(r.complete).toBe(false)
    // What is still in the window is delivered; the app is told to resync for the rest.
    expect(got.at(-1)).toBe(20)
  })

  it('without recover: true nothing missed is replayed, but live delivery resumes', async () => {
    const { url, port } = await res.server({ channels: { 'nr/**': { history: { size: 100 } } } })
    const proxy = await proxied(port)
    const publisher = await res.connected(url)
    const sub = await res.connected(proxy.url)
    const got: number[] = []
    await sub.subscribe('nr/1', (d) => got.push(d as number)).ready
    const lost = nextEvent((l) => sub.on('state', l), 'disconnect')
    proxy.down()
    await lost
    await publisher.publish('nr/1', 1)
    proxy.up()
    await waitFor(() => sub.state === 'connected', 'reconnect')
    // The resubscribe is in flight right after the welcome; a later publication must arrive.
    await waitFor(async () => {
      await publisher.publish('nr/1', 2)
      return got.includes(2)
    }, 'live delivery after reconnect')
    expect(got).not.toContain(1)
  })

  it('fails over to the next URL in the list', async () => {
    const a = await res.server()
    const b = await res.server()
    const sb = await res.connected([a.url, b.url])
    expect(a.server.connectionCount()).toBe(1)
    await a.server.close()
    await waitFor(() => sb.state === 'connected' && b.server.connectionCount() === 1, 'failover to b')
  })
})

describe('offline queue', () => {
  it('publishes made while disconnected are sent in order after reconnect', async () => {
    const { url, port } = await res.server()
    const proxy = await proxied(port)
    const watcher = await res.connected(url)
    const got: number[] = []
    await watcher.subscribe('q/1', (d) => got.push(d as number)).ready
    const sb = await res.connected(proxy.url)
    const lost = nextEvent((l) => sb.on('state', l), 'disconnect')
    proxy.down()
    await lost
    expect(sb.state).toBe('reconnecting')
    const acks = Array.from({ length: 20 }, (_, i) => sb.publish('q/1', i))
    proxy.up()
    const offsets = (await Promise.all(acks)).map((a) => a.offset)
    expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    await waitFor(() => got.length === 20, '20 deliveries')
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('publishes before connect() are queued too', async () => {
    const { url } = await res.server()
    const watcher = await res.connected(url)
    const got: unknown[] = []
    await watcher.subscribe('early/1', (d) => got.push(d)).ready
    const sb = res.client(url)
    const ack = sb.publish('early/1', 'queued')
    await sb.connect()
    expect((await ack).offset).toBe(1)
    await waitFor(() => got.length === 1, 'delivery')
  })

  it('the bound gives a clear QUEUE_FULL error', async () => {
    const { url } = await res.server()
    const sb = res.client(url, { offlineQueueLimit: 3 })
    const queued = [1, 2, 3].map((i) => sb.publish('full/1', i))
    await expect(sb.publish('full/1', 4)).rejects.toMatchObject({ code: 'QUEUE_FULL' })
    await sb.connect()
    await expect(Promise.all(queued)).resolves.toHaveLength(3)
  })

  it('close() fails queued operations with CLOSED', async () => {
    const { url } = await res.server()
    const sb = res.client(url)
    const p = sb.publish('c/1', 1)
    await sb.close()
    await expect(p).rejects.toMatchObject({ code: 'CLOSED' })
    expect(sb.state).toBe('closed')
  })
})
