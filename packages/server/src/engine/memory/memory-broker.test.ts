import { describe, expect, it } from 'vitest'
import { describeBrokerContract } from '../contract/broker.contract.js'
import { MemoryBroker } from './memory-broker.js'

describeBrokerContract('memory', { create: async () => new MemoryBroker() })

describe('MemoryBroker specifics', () => {
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
