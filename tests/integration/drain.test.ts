import { afterEach, describe, expect, it } from 'vitest'
import { MemoryHub, type SwitchboardConfigInput } from '@switchboard/server'
import { ManualClock } from '@switchboard/server/contract'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const channels: SwitchboardConfigInput['channels'] = { 'deploy/*': { history: { size: 1000, ttl: '10m' } } }

describe('graceful drain (close({ drain: true }), what SIGTERM does)', () => {
  it('clients leave spread over the window, move to the other node and miss nothing, exactly once, in order', async () => {
    // Two nodes sharing channels and history (the engine seam a cluster engine fills).
    const hub = new MemoryHub()
    const clock = new ManualClock()
    const a = await res.server({ channels, server: { drain: { windowMs: 10_000 } } }, { engine: hub.engine(), clock })
    const b = await res.server({ channels }, { engine: hub.engine() })
    // A backoff of a minute: only the drain's own hint (under a second) brings a client back in time.
    const opts = { reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } }
    const clients = await Promise.all(Array.from({ length: 10 }, () => res.connected([a.url, b.url], opts)))
    const got = clients.map(() => [] as number[])
    await Promise.all(
      clients.map((c, i) => c.subscribe('deploy/feed', (d) => got[i]!.push(d as number), { recover: true }).ready),
    )
    const publisher = await res.connected(b.url)
    let next = 1
    const publish = async (n: number) => {
      for (let k = 0; k < n; k++) await publisher.publish('deploy/feed', next++)
    }
    await publish(5)

    const closed = a.server.close({ drain: true })
    expect((await fetch(`${a.url}/readyz`)).status).toBe(503) // the node stops accepting first
    expect(a.server.connectionCount()).toBe(10) // … and nobody is told to go yet

    clock.advance(4_999)
    expect(a.server.connectionCount()).toBe(5) // half the window: half the clients
    await publish(5)
    await waitFor(() => b.server.connectionCount() === 6, 'the first half to reconnect to b')
    await publish(5)

    clock.advance(5_001)
    await closed
    expect(a.server.state).toBe('stopped')
    await waitFor(
      () => clients.every((c) => c.state === 'connected') && b.server.connectionCount() === 11,
      'every client on b',
    )
    await publish(5)
    const all = Array.from({ length: next - 1 }, (_, i) => i + 1)
    await waitFor(() => got.every((g) => g.length >= all.length), 'every publication everywhere')
    for (const g of got) expect(g).toEqual(all)
  })

  it('the node stops early once its clients are gone, without waiting for the window', async () => {
    const clock = new ManualClock()
    const a = await res.server({ server: { drain: { windowMs: 60_000 } } }, { clock })
    const client = await res.connected(a.url)
    const closed = a.server.close({ drain: true })
    await waitFor(() => a.server.state === 'draining', 'draining')
    await client.close()
    await closed // no clock.advance: the window never passed
    expect(a.server.state).toBe('stopped')
  })
})
