import { describe, expect, it } from 'vitest'
import { MemoryPresenceStore } from './memory-presence-store.js'
import { describePresenceStoreContract } from '../contract/presence-store.contract.js'

describePresenceStoreContract('memory', { create: async () => new MemoryPresenceStore() })

describe('MemoryPresenceStore specifics', () => {
  it('expires ttl entries by its clock, and removeClient does not report expired rooms', async () => {
    let now = 1_000
    const store = new MemoryPresenceStore(() => now)
    await store.join('r1', { userId: null, clientId: 'c', meta: null }, 100)
    await store.join('r2', { userId: null, clientId: 'c', meta: null })
    now += 100
    expect(await store.count('r1')).toBe(0)
    expect(await store.leave('r1', 'c')).toBeNull()
    await store.join('r1', { userId: null, clientId: 'c', meta: null }, 100)
    now += 200
    expect(await store.removeClient('c')).toEqual(['r2'])
  })
})
