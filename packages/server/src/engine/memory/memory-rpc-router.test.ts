import { describe, expect, it } from 'vitest'
import { MemoryRpcRouter } from './memory-rpc-router.js'
import { canPickNow } from '../rpc-router.js'
import { describeRpcRouterContract } from '../contract/rpc-router.contract.js'

describeRpcRouterContract('memory', { create: async () => new MemoryRpcRouter() })

describe('MemoryRpcRouter specifics', () => {
  it('keeps the rotation fair when a provider leaves mid-rotation', async () => {
    const router = new MemoryRpcRouter()
    await router.start({ onInvoke: () => {}, onOutcome: () => {} })
    for (const id of ['a', 'b', 'c', 'd']) await router.register('n', id)
    expect(await router.pick('n', undefined)).toBe('a')
    expect(await router.pick('n', undefined)).toBe('b')
    await router.unregister('n', 'a')
    // c was next before a left, and still is.
    expect(await router.pick('n', undefined)).toBe('c')
    expect(await router.pick('n', undefined)).toBe('d')
    expect(await router.pick('n', undefined)).toBe('b')
  })

  it('has the synchronous pick capability, with the same rotation as pick', async () => {
    const [a, b] = [new MemoryRpcRouter(), new MemoryRpcRouter()]
    expect(canPickNow(a)).toBe(true)
    for (const r of [a, b]) for (const id of ['x', 'y', 'z']) await r.register('n', id)
    const exclude = new Set(['y'])
    const viaPick: (string | null)[] = []
    const viaNow: (string | null)[] = []
    for (let i = 0; i < 5; i++) {
      viaPick.push(await a.pick('n', i === 2 ? exclude : undefined))
      viaNow.push(b.pickNow('n', i === 2 ? exclude : undefined))
    }
    expect(viaNow).toEqual(viaPick)
  })
})
