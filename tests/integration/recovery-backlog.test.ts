// Recovery of backlogs larger than the outbound buffer (SPEC §6: a client that was away, or was
// cut as a slow consumer, "reconnects and recovers"): the missed publications leave in pages as
// the connection drains, never as one frame that trips the slow-consumer check.
import { afterEach, describe, expect, it } from 'vitest'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const PAD = 'x'.repeat(1024)
/** The publisher is not under test: its rate limit is lifted. */
const FAST = { messagesPerSecond: 100_000, messagesBurst: 100_000 }

async function publishRange(
  publisher: { publish(ch: string, d: unknown): Promise<unknown> },
  channel: string,
  from: number,
  to: number,
) {
  // In flight 100 at a time: acks come back in order, so offsets follow n.
  for (let i = from; i < to; i += 100) {
    const batch: Promise<unknown>[] = []
    for (let n = i; n < Math.min(i + 100, to); n++) batch.push(publisher.publish(channel, { n, pad: PAD }))
    await Promise.all(batch)
  }
}

describe('recovering a backlog larger than maxBufferedBytes', () => {
  it('delivers all of it once and in order, then the live messages that arrived meanwhile, without a second reconnect', async () => {
    const { url, port } = await res.server({
      channels: { 'big/**': { history: { size: 10_000 } } },
      limits: { maxBufferedBytes: '256KiB', ...FAST },
    })
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const publisher = await res.connected(url)
    const sub = await res.connected(proxy.url)
    const got: number[] = []
    const s = sub.subscribe('big/1', (d) => got.push((d as { n: number }).n), { recover: true })
    await s.ready
    await publishRange(publisher, 'big/1', 0, 1)
    await waitFor(() => got.length === 1, 'the first message')

    const states: string[] = []
    sub.on('state', (st) => states.push(st))
    const lost = nextEvent((l) => sub.on('state', l), 'the disconnect')
    proxy.down()
    await lost
    // ~2 MiB missed: eight times the buffer limit.
    await publishRange(publisher, 'big/1', 1, 2001)
    const recovered = nextEvent<{ missed: number; complete: boolean }>((l) => s.on('recovered', l), 'recovered', 20_000)
    proxy.up()
    // Live publications while the recovery is under way: they come after the recovered ones.
    let n = 2001
    let recoveredYet = false
    recovered.then(
      () => (recoveredYet = true),
      () => (recoveredYet = true),
    )
    while (!recoveredYet && n < 4000) await publishRange(publisher, 'big/1', n, (n += 20))
    const r = await recovered
    await publishRange(publisher, 'big/1', n, n + 20)
    n += 20
    expect(r.complete).toBe(true)
    expect(r.missed).toBeGreaterThanOrEqual(2000)
    await waitFor(() => got.length >= n, `all ${n} messages`, 20_000)
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i))
    // Cut once by the proxy, never again by the server: no reconnect loop.
    expect(states.filter((st) => st === 'reconnecting')).toHaveLength(1)
    expect(sub.state).toBe('connected')
  })

  it('beyond the history window: what history holds arrives, complete is false, and the client stays connected', async () => {
    const { url, port } = await res.server({
      channels: { 'window/**': { history: { size: 600 } } },
      limits: { maxBufferedBytes: '256KiB', ...FAST },
    })
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const publisher = await res.connected(url)
    const sub = await res.connected(proxy.url)
    const got: number[] = []
    const s = sub.subscribe('window/1', (d) => got.push((d as { n: number }).n), { recover: true })
    await s.ready
    await publishRange(publisher, 'window/1', 0, 1)
    await waitFor(() => got.length === 1, 'the first message')
    const states: string[] = []
    sub.on('state', (st) => states.push(st))
    const lost = nextEvent((l) => sub.on('state', l), 'the disconnect')
    proxy.down()
    await lost
    await publishRange(publisher, 'window/1', 1, 1001) // 400 of them fall out of the window
    const recovered = nextEvent<{ missed: number; complete: boolean }>((l) => s.on('recovered', l), 'recovered', 20_000)
    proxy.up()
    expect(await recovered).toEqual({ missed: 600, complete: false })
    await waitFor(() => got.length === 601, 'the 600 still in history')
    expect(got).toEqual([0, ...Array.from({ length: 600 }, (_, i) => 401 + i)])
    await publishRange(publisher, 'window/1', 1001, 1002)
    await waitFor(() => got.at(-1) === 1001, 'live delivery after recovery')
    expect(states.filter((st) => st === 'reconnecting')).toHaveLength(1)
  })

  it('a publication too large to send within maxBufferedBytes is skipped: complete is false, no reconnect loop', async () => {
    const { port, server } = await res.server({
      channels: { 'huge/**': { history: { size: 100 } } },
      limits: { maxBufferedBytes: '64KiB' },
    })
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const sub = await res.connected(proxy.url)
    const got: number[] = []
    const s = sub.subscribe('huge/1', (d) => got.push((d as { n: number }).n), { recover: true })
    await s.ready
    await server.publish('huge/1', { n: 0 })
    await waitFor(() => got.length === 1, 'the first message')
    const states: string[] = []
    sub.on('state', (st) => states.push(st))
    const lost = nextEvent((l) => sub.on('state', l), 'the disconnect')
    proxy.down()
    await lost
    await server.publish('huge/1', { n: 1 })
    await server.publish('huge/1', { n: 2, pad: 'x'.repeat(40 * 1024) }) // over half the buffer limit
    await server.publish('huge/1', { n: 3 })
    const recovered = nextEvent<{ missed: number; complete: boolean }>((l) => s.on('recovered', l), 'recovered')
    proxy.up()
    expect(await recovered).toEqual({ missed: 2, complete: false })
    await server.publish('huge/1', { n: 4 })
    await waitFor(() => got.at(-1) === 4, 'live delivery after recovery')
    expect(got).toEqual([0, 1, 3, 4])
    expect(states.filter((st) => st === 'reconnecting')).toHaveLength(1)
  })

  it('on the wire: the reply carries the first page and more: true, recovery pages follow, the last one says complete, then live messages', async () => {
    const { url, server } = await res.server({
      channels: { 'wire/**': { history: { size: 1000 } } },
      limits: { maxBufferedBytes: '64KiB', ...FAST },
    })
    const first = await server.publish('wire/1', { n: 0 })
    for (let i = 1; i <= 300; i++) await server.publish('wire/1', { n: i, pad: PAD }) // ~300 KiB
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    raw.send({ t: 'sub', id: 1, ch: 'wire/1', since: first })
    const ok = (await raw.waitFor((m) => m.t === 'ok' && m.id === 1)) as {
      r: { o: number; e: string; rec: { pubs: { o: number }[]; complete: boolean; more?: boolean } }
    }
    expect(ok.r).toMatchObject({ o: 301, e: first.epoch, rec: { complete: false, more: true } })
    expect(ok.r.rec.pubs[0]?.o).toBe(2)
    const last = await raw.waitFor((m) => m.t === 'recovery' && m.more !== true)
    expect(last).toMatchObject({ ch: 'wire/1', e: first.epoch, complete: true })
    await server.publish('wire/1', { n: 301 })
    await raw.waitFor((m) => m.t === 'msg' && m.o === 302)
    const pages = raw.messages.filter((m) => m.t === 'recovery') as unknown as { pubs: { o: number }[] }[]
    expect(pages.length).toBeGreaterThan(1)
    const offsets = [ok.r.rec.pubs, ...pages.map((p) => p.pubs)].flat().map((p) => p.o)
    expect(offsets).toEqual(Array.from({ length: 300 }, (_, i) => i + 2))
    // Each page fits comfortably in the buffer limit.
    for (const page of pages) expect(JSON.stringify(page).length).toBeLessThan(64 * 1024)
    expect(raw.closed).toBeUndefined()
  })
})
