/**
 * The RpcRouter conformance suite. Every implementation (memory now, Redis next) runs it through
 * `describeRpcRouterContract(name, factory)`; the factory returns a fresh, isolated router.
 */
import { describe, expect, it } from 'vitest'
import { Changes } from '../../testing/changes.js'
import type { RpcCall, RpcOutcome, RpcRouter, RpcRouterHandler } from '../rpc-router.js'

export interface RpcRouterFactory {
  create(): Promise<RpcRouter>
  /** Optional: a second router sharing the same backend (another node). */
  createPeer?(): Promise<RpcRouter>
}

interface Recorder extends RpcRouterHandler {
  invoked: { providerId: string; call: RpcCall; reply: (o: RpcOutcome) => void }[]
  outcomes: { callId: string; outcome: RpcOutcome }[]
  /** How onInvoke answers; by default it keeps the reply for the test to use. */
  answer?: (providerId: string, call: RpcCall) => RpcOutcome | undefined
  /** Resolves once `check` holds after an invocation or outcome arrived (bounded). */
  until(check: () => boolean, what: string): Promise<void>
}

function recorder(): Recorder {
  const changes = new Changes()
  const r: Recorder = {
    invoked: [],
    outcomes: [],
    onInvoke(providerId, call, reply) {
      r.invoked.push({ providerId, call, reply })
      changes.notify()
      const outcome = r.answer?.(providerId, call)
      if (outcome) reply(outcome)
    },
    onOutcome(callId, outcome) {
      r.outcomes.push({ callId, outcome })
      changes.notify()
    },
    until: (check, what) => changes.until(check, what),
  }
  return r
}

let seq = 0
const unique = () => `contract/${Date.now().toString(36)}${++seq}`
const call = (name: string, args: unknown = null): RpcCall => ({
  id: `c${++seq}`,
  name,
  args,
  user: null,
  clientId: 'client-1',
  deadline: Date.now() + 10_000,
})

export function describeRpcRouterContract(name: string, factory: RpcRouterFactory): void {
  describe(`RpcRouter contract: ${name}`, () => {
    const open = async () => {
      const router = await factory.create()
      const handler = recorder()
      await router.start(handler)
      return { router, handler }
    }

    it('pick returns a registered provider of the name, null for a name nobody provides', async () => {
      const { router } = await open()
      const n = unique()
      expect(await router.pick(n, undefined)).toBeNull()
      await router.register(n, 'p1')
      expect(await router.pick(n, undefined)).toBe('p1')
      expect(await router.pick(unique(), undefined)).toBeNull()
      expect(await router.providerCount(n)).toBe(1)
      await router.close()
    })

    it('round-robin: every provider once before any twice; register is idempotent', async () => {
      const { router } = await open()
      const n = unique()
      for (const id of ['a', 'b', 'c']) await router.register(n, id)
      await router.register(n, 'b')
      expect(await router.providerCount(n)).toBe(3)
      const picks: (string | null)[] = []
      for (let i = 0; i < 9; i++) picks.push(await router.pick(n, undefined))
      for (let round = 0; round < 3; round++)
        expect(new Set(picks.slice(round * 3, round * 3 + 3))).toEqual(new Set(['a', 'b', 'c']))
      await router.close()
    })

    it('pick skips excluded providers and returns null when all are excluded', async () => {
      const { router } = await open()
      const n = unique()
      await router.register(n, 'a')
      await router.register(n, 'b')
      for (let i = 0; i < 4; i++) expect(await router.pick(n, new Set(['a']))).toBe('b')
      expect(await router.pick(n, new Set(['a', 'b']))).toBeNull()
      await router.close()
    })

    it('unregister and unregisterAll take providers out of the pools', async () => {
      const { router } = await open()
      const [n1, n2] = [unique(), unique()]
      await router.register(n1, 'a')
      await router.register(n1, 'b')
      await router.register(n2, 'b')
      await router.unregister(n1, 'a')
      for (let i = 0; i < 3; i++) expect(await router.pick(n1, undefined)).toBe('b')
      await router.unregister(n1, 'nobody') // unknown: no effect
      await router.unregisterAll('b')
      expect(await router.pick(n1, undefined)).toBeNull()
      expect(await router.pick(n2, undefined)).toBeNull()
      expect(await router.providerCount(n1)).toBe(0)
      await router.close()
    })

    it('deliver hands the call to onInvoke once, and its reply reaches onOutcome once', async () => {
      const { router, handler } = await open()
      const n = unique()
      await router.register(n, 'p')
      const c = { ...call(n, { x: 1 }), user: { id: 'alice', role: 'r' } }
      router.deliver('p', c)
      await handler.until(() => handler.invoked.length === 1, 'the invocation')
      const inv = handler.invoked[0]!
      expect(inv.providerId).toBe('p')
      expect(inv.call).toEqual(c)
      inv.reply({ kind: 'result', value: 42 })
      inv.reply({ kind: 'result', value: 43 }) // a second reply is dropped
      // Outcomes arrive in reply order: once a later call's outcome is in, a second outcome
      // for c can no longer be on its way.
      const later = call(n)
      router.deliver('p', later)
      await handler.until(() => handler.invoked.length === 2, 'the later invocation')
      handler.invoked[1]!.reply({ kind: 'result', value: 'later' })
      await handler.until(() => handler.outcomes.some((o) => o.callId === later.id), 'the later outcome')
      expect(handler.outcomes).toEqual([
        { callId: c.id, outcome: { kind: 'result', value: 42 } },
        { callId: later.id, outcome: { kind: 'result', value: 'later' } },
      ])
      await router.close()
    })

    it('every outcome kind travels back unchanged', async () => {
      const { router, handler } = await open()
      const n = unique()
      await router.register(n, 'p')
      const kinds: RpcOutcome[] = [
        { kind: 'result', value: { nested: [1, 'two'] } },
        { kind: 'error', message: 'boom', code: 'NOT_FOUND' },
        { kind: 'error', message: 'plain' },
        { kind: 'reject' },
        { kind: 'lost' },
      ]
      let i = 0
      handler.answer = () => kinds[i++]
      const ids = kinds.map(() => call(n))
      for (const c of ids) router.deliver('p', c)
      await handler.until(() => handler.outcomes.length === kinds.length, 'all outcomes')
      for (let k = 0; k < kinds.length; k++) {
        expect(handler.outcomes.find((o) => o.callId === ids[k]!.id)?.outcome).toEqual(kinds[k])
      }
      await router.close()
    })

    it('delivering to a provider that is not registered (any more) yields unavailable, never a throw', async () => {
      const { router, handler } = await open()
      const n = unique()
      await router.register(n, 'p')
      await router.unregister(n, 'p')
      const c = call(n)
      expect(() => router.deliver('p', c)).not.toThrow()
      const c2 = call(n)
      router.deliver('ghost', c2)
      await handler.until(() => handler.outcomes.length === 2, 'two outcomes')
      expect(handler.outcomes).toContainEqual({ callId: c.id, outcome: { kind: 'unavailable' } })
      expect(handler.outcomes).toContainEqual({ callId: c2.id, outcome: { kind: 'unavailable' } })
      expect(handler.invoked).toHaveLength(0)
      await router.close()
    })

    if (factory.createPeer) {
      const createPeer = factory.createPeer.bind(factory)
      it('across nodes: a provider registered on one node is picked and invoked from another', async () => {
        const { router: a, handler: ha } = await open()
        const b = await createPeer()
        const hb = recorder()
        await b.start(hb)
        const n = unique()
        await b.register(n, 'remote')
        expect(await a.pick(n, undefined)).toBe('remote')
        hb.answer = () => ({ kind: 'result', value: 'from b' })
        const c = call(n)
        a.deliver('remote', c)
        await ha.until(() => ha.outcomes.length === 1, 'the outcome on the origin node')
        expect(ha.outcomes[0]).toEqual({ callId: c.id, outcome: { kind: 'result', value: 'from b' } })
        expect(hb.outcomes).toHaveLength(0)
        await a.close()
        await b.close()
      })
    }
  })
}
