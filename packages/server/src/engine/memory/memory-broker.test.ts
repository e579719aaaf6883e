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
})
