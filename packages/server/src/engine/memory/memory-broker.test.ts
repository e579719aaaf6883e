import { describe, expect, it } from 'vitest'
import { describeBrokerContract } from '../contract/broker.contract.js'
import { MemoryBroker } from './memory-broker.js'
import { PublishedKeys } from './published-keys.js'

describeBrokerContract('memory', { create: async () => new MemoryBroker() })

describe('MemoryBroker specifics', () => {
  it('an idempotency key is forgotten after its window: the same key then publishes again', async () => {
    let now = 1_000_000
    const broker = new MemoryBroker(() => now)
    await broker.start({ onPublication: () => {} })
    const opts = { history: { size: 10, ttlMs: 0 }, idempotency: { key: 'k', windowMs: 1000 } }
    expect((await broker.publish('i/1', 'a', opts)).offset).toBe(1)
    now += 999
    expect((await broker.publish('i/1', 'a', opts)).offset).toBe(1)
    now += 1
    expect((await broker.publish('i/1', 'a', opts)).offset).toBe(2)
    await broker.close()
  })

  it('the idempotency table is bounded: past its size the oldest keys go first', () => {
    const keys = new PublishedKeys(3)
    const at = { offset: 1, epoch: 'e' }
    for (const k of ['a', 'b', 'c', 'd']) keys.remember('ch', k, 60_000, at, 0)
    expect(keys.size).toBe(3)
    expect(keys.find('ch', 'a', 0)).toBeUndefined()
    expect(keys.find('ch', 'd', 0)).toEqual(at)
    expect(keys.find('other', 'd', 0)).toBeUndefined()
  })

  it('drops publications older than the ttl from history', async () => {
    let now = 1_000_000
    const broker = new MemoryBroker(() => now)
    await broker.start({ onPublication: () => {} })
    const opts = { size: 10, ttlMs: 1000 }
    await broker.publish('t/1', 'old', { history: opts })
    now += 1500
    await broker.publish('t/1', 'new', { history: opts })
    const h = await broker.history('t/1', { limit: 10 }, opts)
    expect(h.publications.map((p) => p.data)).toEqual(['new'])
    const since = await broker.history('t/1', { since: { offset: 0, epoch: h.position.epoch }, limit: 10 }, opts)
    expect(since.complete).toBe(false)
    await broker.close()
  })

  it('reads any page of a wrapped ring: from an offset, at most limit, a gap when trimmed', async () => {
    const broker = new MemoryBroker()
    await broker.start({ onPublication: () => {} })
    const opts = { size: 10, ttlMs: 0 }
    for (let i = 1; i <= 25; i++) await broker.publish('r/1', i, { history: opts })
    const epoch = (await broker.history('r/1', { limit: 0 }, opts)).position.epoch
    const page = async (offset: number, limit: number) => {
      const h = await broker.history('r/1', { since: { offset, epoch }, limit }, opts)
      return { offsets: h.publications.map((p) => p.offset), complete: h.complete }
    }
    expect(await page(17, 3)).toEqual({ offsets: [18, 19, 20], complete: false })
    expect(await page(20, 10)).toEqual({ offsets: [21, 22, 23, 24, 25], complete: true })
    expect(await page(10, 3)).toEqual({ offsets: [16, 17, 18], complete: false })
    expect(await page(25, 3)).toEqual({ offsets: [], complete: true })
    expect((await broker.history('r/1', { limit: 4 }, opts)).publications.map((p) => p.offset)).toEqual([
      22, 23, 24, 25,
    ])
    await broker.close()
  })
})
