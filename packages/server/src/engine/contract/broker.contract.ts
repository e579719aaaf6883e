/**
 * The Broker conformance suite. Every implementation (memory now, Redis next) runs it through
 * `describeBrokerContract(name, factory)`; the factory returns a fresh, isolated broker.
 */
import { describe, expect, it } from 'vitest'
import { Changes } from '../../testing/changes.js'
import type { Broker, BrokerHandler, HistoryOptions, Publication } from '../broker.js'

export interface BrokerFactory {
  create(): Promise<Broker>
  /** Optional: a second broker sharing the same backend (another node). */
  createPeer?(): Promise<Broker>
}

const keep = (size: number, ttlMs = 0): HistoryOptions => ({ size, ttlMs })

function collector(): BrokerHandler & { pubs: Publication[]; waitFor(n: number): Promise<void> } {
  const pubs: Publication[] = []
  const changes = new Changes()
  return {
    pubs,
    onPublication(p) {
      pubs.push(p)
      changes.notify()
    },
    waitFor: (n) => changes.until(() => pubs.length >= n, `${n} publications`),
  }
}

export function describeBrokerContract(name: string, factory: BrokerFactory): void {
  describe(`Broker contract: ${name}`, () => {
    const open = async () => {
      const broker = await factory.create()
      const handler = collector()
      await broker.start(handler)
      return { broker, handler }
    }
    const unique = () => `contract/${Math.random().toString(36).slice(2)}`

    it('offsets start at 1 and increase by exactly 1 per publication, with a stable epoch', async () => {
      const { broker } = await open()
      const ch = unique()
      const a = await broker.publish(ch, 'a', { history: keep(10) })
      const b = await broker.publish(ch, 'b', { history: keep(10) })
      expect(a.offset).toBe(1)
      expect(b.offset).toBe(2)
      expect(b.epoch).toBe(a.epoch)
      await broker.close()
    })

    it('channels have independent streams', async () => {
      const { broker } = await open()
      const [x, y] = [unique(), unique()]
      await broker.publish(x, 1, { history: keep(10) })
      await broker.publish(x, 2, { history: keep(10) })
      expect((await broker.publish(y, 1, { history: keep(10) })).offset).toBe(1)
      await broker.close()
    })

    it('hands every publication of a subscribed channel to the handler once, in order', async () => {
      const { broker, handler } = await open()
      const ch = unique()
      await broker.subscribe(ch)
      for (let i = 0; i < 50; i++)
        await broker.publish(ch, i, { history: keep(0), publisher: { user: 'u', client: 'c' } })
      await handler.waitFor(50)
      const mine = handler.pubs.filter((p) => p.channel === ch)
      expect(mine.map((p) => p.data)).toEqual(Array.from({ length: 50 }, (_, i) => i))
      expect(mine.map((p) => p.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
      expect(mine[0]?.publisher).toEqual({ user: 'u', client: 'c' })
      await broker.close()
    })

    it('history reflects every resolved publish, oldest first, bounded by size', async () => {
      const { broker } = await open()
      const ch = unique()
      for (let i = 1; i <= 8; i++) await broker.publish(ch, i, { history: keep(5) })
      const h = await broker.history(ch, { limit: 100 }, keep(5))
      expect(h.publications.map((p) => p.data)).toEqual([4, 5, 6, 7, 8])
      expect(h.publications.map((p) => p.offset)).toEqual([4, 5, 6, 7, 8])
      expect(h.position.offset).toBe(8)
      expect(h.complete).toBe(true)
      await broker.close()
    })

    it('without since, limit keeps the newest', async () => {
      const { broker } = await open()
      const ch = unique()
      for (let i = 1; i <= 5; i++) await broker.publish(ch, i, { history: keep(10) })
      const h = await broker.history(ch, { limit: 2 }, keep(10))
      expect(h.publications.map((p) => p.offset)).toEqual([4, 5])
      await broker.close()
    })

    it('since is exclusive and complete when nothing was trimmed', async () => {
      const { broker } = await open()
      const ch = unique()
      let epoch = ''
      for (let i = 1; i <= 6; i++) epoch = (await broker.publish(ch, i, { history: keep(10) })).epoch
      const h = await broker.history(ch, { since: { offset: 3, epoch }, limit: 100 }, keep(10))
      expect(h.publications.map((p) => p.offset)).toEqual([4, 5, 6])
      expect(h.complete).toBe(true)
      const none = await broker.history(ch, { since: { offset: 6, epoch }, limit: 100 }, keep(10))
      expect(none.publications).toEqual([])
      expect(none.complete).toBe(true)
      await broker.close()
    })

    it('since beyond the window is incomplete; a foreign epoch is incomplete and returns nothing', async () => {
      const { broker } = await open()
      const ch = unique()
      let epoch = ''
      for (let i = 1; i <= 10; i++) epoch = (await broker.publish(ch, i, { history: keep(3) })).epoch
      const trimmed = await broker.history(ch, { since: { offset: 2, epoch }, limit: 100 }, keep(3))
      expect(trimmed.complete).toBe(false)
      expect(trimmed.publications.map((p) => p.offset)).toEqual([8, 9, 10])
      const foreign = await broker.history(ch, { since: { offset: 2, epoch: 'not-' + epoch }, limit: 100 }, keep(3))
      expect(foreign.complete).toBe(false)
      expect(foreign.publications).toEqual([])
      expect(foreign.position).toEqual({ offset: 10, epoch })
      await broker.close()
    })

    it('a limit smaller than what was missed makes the answer incomplete', async () => {
      const { broker } = await open()
      const ch = unique()
      let epoch = ''
      for (let i = 1; i <= 10; i++) epoch = (await broker.publish(ch, i, { history: keep(100) })).epoch
      const h = await broker.history(ch, { since: { offset: 0, epoch }, limit: 4 }, keep(100))
      expect(h.publications.map((p) => p.offset)).toEqual([1, 2, 3, 4])
      expect(h.complete).toBe(false)
      await broker.close()
    })

    it('size 0 keeps no history, offsets still advance', async () => {
      const { broker } = await open()
      const ch = unique()
      await broker.publish(ch, 1, { history: keep(0) })
      await broker.publish(ch, 2, { history: keep(0) })
      const h = await broker.history(ch, { limit: 100 }, keep(0))
      expect(h.publications).toEqual([])
      expect(h.position.offset).toBe(2)
      await broker.close()
    })

    it('a stream never published to has offset 0', async () => {
      const { broker } = await open()
      const h = await broker.history(unique(), { limit: 10 }, keep(10))
      expect(h.position.offset).toBe(0)
      expect(typeof h.position.epoch).toBe('string')
      await broker.close()
    })

    const once = (key: string) => ({ history: keep(10), idempotency: { key, windowMs: 60_000 } })

    it('an idempotency key the channel already published publishes nothing and answers the first position', async () => {
      const { broker, handler } = await open()
      const ch = unique()
      await broker.subscribe(ch)
      const first = await broker.publish(ch, 'a', once('k1'))
      const again = await broker.publish(ch, 'a (resent)', once('k1'))
      const other = await broker.publish(ch, 'b', once('k2'))
      const plain = await broker.publish(ch, 'c', { history: keep(10) })
      expect(again).toEqual(first)
      expect([first.offset, other.offset, plain.offset]).toEqual([1, 2, 3])
      await handler.waitFor(3)
      expect(handler.pubs.filter((p) => p.channel === ch).map((p) => p.data)).toEqual(['a', 'b', 'c'])
      const h = await broker.history(ch, { limit: 10 }, keep(10))
      expect(h.publications.map((p) => p.data)).toEqual(['a', 'b', 'c'])
      await broker.close()
    })

    it('idempotency keys are per channel, and concurrent publishes with one key publish once', async () => {
      const { broker } = await open()
      const [x, y] = [unique(), unique()]
      const both = await Promise.all([broker.publish(x, 1, once('k')), broker.publish(x, 1, once('k'))])
      expect(both[1]).toEqual(both[0])
      expect((await broker.publish(y, 1, once('k'))).offset).toBe(1)
      expect((await broker.history(x, { limit: 10 }, keep(10))).publications).toHaveLength(1)
      await broker.close()
    })

    if (factory.createPeer) {
      it('a resend through another node with the same idempotency key publishes nothing', async () => {
        const { broker } = await open()
        const peer = await factory.createPeer!()
        await peer.start(collector())
        const ch = unique()
        const first = await broker.publish(ch, 'x', once('k'))
        expect(await peer.publish(ch, 'x', once('k'))).toEqual(first)
        expect((await peer.history(ch, { limit: 10 }, keep(10))).publications).toHaveLength(1)
        await Promise.all([broker.close(), peer.close()])
      })

      it('a peer node sees publications of channels it subscribed to', async () => {
        const { broker } = await open()
        const peer = await factory.createPeer!()
        const handler = collector()
        await peer.start(handler)
        const ch = unique()
        await peer.subscribe(ch)
        await broker.publish(ch, 'x', { history: keep(10) })
        await handler.waitFor(1)
        expect(handler.pubs[0]?.data).toBe('x')
        await Promise.all([broker.close(), peer.close()])
      })

      it('a peer node subscribed to an internal stream family ($records/<collection>/*) hears its streams', async () => {
        const { broker } = await open()
        const peer = await factory.createPeer!()
        const handler = collector()
        await peer.start(handler)
        const family = `$records/${unique().replace('/', '-')}`
        await peer.subscribe(`${family}/*`)
        await broker.publish(`${family}/1`, 'one', { history: keep(0) })
        await broker.publish(`${family}/2`, 'two', { history: keep(0) })
        await handler.waitFor(2)
        // Order holds within a channel only: on a Redis Cluster two channels may live on two shards.
        const heard = handler.pubs
          .map((p) => [p.channel, p.data])
          .sort(([a], [b]) => String(a).localeCompare(String(b)))
        expect(heard).toEqual([
          [`${family}/1`, 'one'],
          [`${family}/2`, 'two'],
        ])
        await Promise.all([broker.close(), peer.close()])
      })
    }
  })
}
