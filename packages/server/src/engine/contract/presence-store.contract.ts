/**
 * The PresenceStore conformance suite. Every implementation (memory now, Redis next) runs it
 * through `describePresenceStoreContract(name, factory)`; the factory returns a fresh store.
 */
import { describe, expect, it } from 'vitest'
import type { PresenceMember, PresenceStore } from '../presence-store.js'

export interface PresenceStoreFactory {
  create(): Promise<PresenceStore>
  /** Optional: a second store sharing the same backend (another node). */
  createPeer?(): Promise<PresenceStore>
}

let seq = 0
const unique = () => `contract/${Date.now().toString(36)}${++seq}`
const member = (clientId: string, userId: string | null = null, meta: unknown = null): PresenceMember => ({
  userId,
  clientId,
  meta,
})
const byClient = (ms: PresenceMember[]) => [...ms].sort((a, b) => a.clientId.localeCompare(b.clientId))

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export function describePresenceStoreContract(name: string, factory: PresenceStoreFactory): void {
  describe(`PresenceStore contract: ${name}`, () => {
    it('join adds a member, join again updates it; members and count agree', async () => {
      const store = await factory.create()
      const room = unique()
      expect(await store.join(room, member('c1', 'alice', { status: 'idle' }))).toBe('joined')
      expect(await store.join(room, member('c2', 'bob'))).toBe('joined')
      expect(await store.join(room, member('c1', 'alice', { status: 'typing' }))).toBe('updated')
      expect(byClient(await store.members(room))).toEqual([
        member('c1', 'alice', { status: 'typing' }),
        member('c2', 'bob'),
      ])
      expect(await store.count(room)).toBe(2)
      await store.close()
    })

    it('several clients of one user are distinct members', async () => {
      const store = await factory.create()
      const room = unique()
      await store.join(room, member('tab1', 'alice'))
      await store.join(room, member('tab2', 'alice'))
      expect(await store.count(room)).toBe(2)
      expect((await store.members(room)).map((m) => m.userId)).toEqual(['alice', 'alice'])
      await store.close()
    })

    it('leave removes a member and returns it; leaving again returns null', async () => {
      const store = await factory.create()
      const room = unique()
      await store.join(room, member('c1', 'alice', { a: 1 }))
      expect(await store.leave(room, 'c1')).toEqual(member('c1', 'alice', { a: 1 }))
      expect(await store.leave(room, 'c1')).toBeNull()
      expect(await store.leave(unique(), 'c1')).toBeNull()
      expect(await store.members(room)).toEqual([])
      expect(await store.count(room)).toBe(0)
      await store.close()
    })

    it('rooms are independent; an unknown room is empty', async () => {
      const store = await factory.create()
      const [r1, r2] = [unique(), unique()]
      await store.join(r1, member('c1'))
      await store.join(r2, member('c2'))
      expect((await store.members(r1)).map((m) => m.clientId)).toEqual(['c1'])
      expect((await store.members(r2)).map((m) => m.clientId)).toEqual(['c2'])
      expect(await store.members(unique())).toEqual([])
      expect(await store.count(unique())).toBe(0)
      await store.close()
    })

    it('removeClient removes that client from every room, once, and nobody else', async () => {
      const store = await factory.create()
      const [r1, r2, r3] = [unique(), unique(), unique()]
      await store.join(r1, member('gone'))
      await store.join(r2, member('gone'))
      await store.join(r2, member('stays'))
      await store.join(r3, member('stays'))
      expect((await store.removeClient('gone')).sort()).toEqual([r1, r2].sort())
      expect(await store.removeClient('gone')).toEqual([])
      expect(await store.count(r1)).toBe(0)
      expect((await store.members(r2)).map((m) => m.clientId)).toEqual(['stays'])
      expect(await store.count(r3)).toBe(1)
      await store.close()
    })

    it('returns copies: changing a returned member does not change the store', async () => {
      const store = await factory.create()
      const room = unique()
      const m = member('c1', 'alice', { n: 1 })
      await store.join(room, m)
      m.userId = 'mallory'
      const [read] = await store.members(room)
      read!.clientId = 'changed'
      expect(await store.members(room)).toEqual([member('c1', 'alice', { n: 1 })])
      await store.close()
    })

    it('operations of one caller apply in call order', async () => {
      const store = await factory.create()
      const room = unique()
      const ops: Promise<unknown>[] = []
      for (let i = 0; i < 50; i++) {
        ops.push(store.join(room, member(`c${i % 5}`, null, i)))
        if (i % 7 === 0 && i < 40) ops.push(store.leave(room, `c${i % 5}`))
      }
      await Promise.all(ops)
      // The last operation on each client decides: c0..c4 last joined with meta 45..49.
      expect(byClient(await store.members(room)).map((m) => m.meta)).toEqual([45, 46, 47, 48, 49])
      await store.close()
    })

    it('a member joined with a ttl disappears unless joined again; without ttl it stays', async () => {
      const store = await factory.create()
      const room = unique()
      await store.join(room, member('short'), 150)
      await store.join(room, member('long'), 60_000)
      await store.join(room, member('forever'))
      expect(await store.count(room)).toBe(3)
      await until(async () => (await store.count(room)) === 2, 'the short ttl to expire')
      expect((await store.members(room)).map((m) => m.clientId).sort()).toEqual(['forever', 'long'])
      // Refreshing keeps an entry alive; the refresh of an expired entry counts as a new join.
      expect(await store.join(room, member('short'), 60_000)).toBe('joined')
      expect(await store.join(room, member('short'), 60_000)).toBe('updated')
      await store.close()
    })

    if (factory.createPeer) {
      const createPeer = factory.createPeer.bind(factory)
      it('across nodes: members joined on one node are seen on the other', async () => {
        const a = await factory.create()
        const b = await createPeer()
        const room = unique()
        await a.join(room, member('on-a'))
        await b.join(room, member('on-b'))
        expect((await a.members(room)).map((m) => m.clientId).sort()).toEqual(['on-a', 'on-b'])
        expect(await b.count(room)).toBe(2)
        await a.close()
        await b.close()
      })
    }
  })
}
