/**
 * A record subscriber that falls behind (it stops reading while the record keeps changing) gets
 * the record's newest state once it reads again, not every change it missed: versions are
 * coalesced, it never sees an older state after a newer one, and it ends at the last version.
 * It is not closed as a slow consumer, and the other subscribers get every change.
 */
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Resources } from '../support/server.js'
import { RawClient } from '../support/raw-client.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

// Lagging starts at 64 KiB waiting; without coalescing the stalled subscriber would pass 1 MiB and be cut.
const LIMITS = { maxBufferedBytes: '1MiB', messagesPerSecond: 100_000, messagesBurst: 100_000 }
// Far more than the kernel's socket buffers hold for a peer that does not read.
const WRITES = 1500
const PAD = 'x'.repeat(16 * 1024)

interface Seen {
  version: number
  i: number
}

describe('lagging record subscribers', () => {
  it('a stalled SDK subscriber gets only newer states, in version order, ending at the last; others get every change', async () => {
    const { url, port, server } = await res.server({ limits: LIMITS })
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const stalled = await res.connected(proxy.url)
    const normal = await res.connected(url)
    const stalledRec = stalled.record('lag/a')
    const normalRec = normal.record('lag/a')
    await Promise.all([stalledRec.ready, normalRec.ready])
    const stalledSeen: Seen[] = []
    const normalSeen: Seen[] = []
    stalledRec.subscribe('p', (v) => stalledSeen.push({ version: stalledRec.version, i: (v as { i: number }).i }))
    let normalGot = () => {}
    normalRec.subscribe('p', (v) => {
      normalSeen.push({ version: normalRec.version, i: (v as { i: number }).i })
      normalGot()
    })
    const firstClientId = stalled.clientId

    proxy.stall()
    for (let i = 1; i <= WRITES; i++) {
      // In step with the normal subscriber (in this process too), so that it never falls behind.
      const got = new Promise<void>((resolve) => (normalGot = resolve))
      await server.records.set('lag/a', 'p', { i, pad: PAD })
      await got
    }
    expect(server.connectionCount()).toBe(2) // not cut as a slow consumer
    proxy.stall(false)

    await waitFor(() => stalledRec.version === WRITES, 'the stalled subscriber to reach the last version', 20_000)
    await waitFor(() => normalSeen.length === WRITES, 'the normal subscriber to see every change', 20_000)
    expect(stalled.clientId).toBe(firstClientId) // the same connection all along
    // Every state it saw was newer than the one before, and whole: the data is that version's.
    for (let k = 0; k < stalledSeen.length; k++) {
      const s = stalledSeen[k] as Seen
      expect(s.i).toBe(s.version)
      if (k > 0) expect(s.version).toBeGreaterThan((stalledSeen[k - 1] as Seen).version)
    }
    expect(stalledSeen.at(-1)).toEqual({ version: WRITES, i: WRITES })
    expect(stalledSeen.length).toBeLessThan(WRITES) // missed versions were coalesced
    expect(stalledRec.get('p')).toMatchObject({ i: WRITES })
    // The other subscriber: every version, once, in order.
    expect(normalSeen).toEqual(Array.from({ length: WRITES }, (_, k) => ({ version: k + 1, i: k + 1 })))
  })

  it('on the wire: a whole-document change that skips the versions the subscriber missed', async () => {
    const { url, server } = await res.server({ limits: LIMITS })
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    raw.send({ t: 'rsub', id: 1, n: 'lag/b' })
    await raw.waitFor((m) => m.t === 'ok' && m.id === 1)
    const socket = (raw.ws as unknown as { _socket: Socket })._socket
    socket.pause() // stop reading: the kernel buffers fill, then the server's own
    for (let i = 1; i <= WRITES; i++) await server.records.set('lag/b', 'p', { i, pad: PAD })
    await server.records.delete('lag/b')
    expect(server.connectionCount()).toBe(1)
    socket.resume()

    const last = WRITES + 1
    await raw.waitFor((m) => m.t === 'rchg' && m.v === last, 20_000)
    const changes = raw.messages.filter((m) => m.t === 'rchg') as { v: number; p?: string; d?: unknown; del?: true }[]
    const versions = changes.map((c) => c.v)
    expect(versions).toEqual([...versions].sort((a, b) => a - b))
    expect(new Set(versions).size).toBe(versions.length) // each version at most once
    // Consecutive versions as path changes, until a jump: only ever as a whole state.
    for (let k = 1; k < changes.length; k++) {
      const c = changes[k] as { v: number; p?: string; d?: unknown; del?: true }
      if (c.v !== (changes[k - 1] as { v: number }).v + 1) expect(c.p).toBeUndefined()
    }
    const jumps = changes.filter((c, k) => k > 0 && c.v > (changes[k - 1] as { v: number }).v + 1)
    expect(jumps.length).toBeGreaterThan(0)
    expect(changes.at(-1)).toMatchObject({ v: last })
    expect(changes.at(-1)?.d).toBeUndefined() // the last state: deleted
    expect(raw.closed).toBeUndefined()
  })
})
