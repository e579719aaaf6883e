import { describe, expect, it } from 'vitest'
import { describeBrokerContract } from '../contract/broker.contract.js'
import { describeNodeBusContract } from '../contract/node-bus.contract.js'
import type { NodeMessage } from '../node-bus.js'
import { MemoryHub } from './memory-hub.js'

let hub = new MemoryHub()
describeBrokerContract('memory hub', {
  create: async () => (hub = new MemoryHub()).broker(),
  createPeer: async () => hub.broker(),
})

const buses = new MemoryHub()
describeNodeBusContract('memory hub', { create: async (nodeId) => buses.bus(nodeId) })

describe('MemoryHub', () => {
  it('delivers a publication only to the nodes that subscribed to its channel or a matching pattern', async () => {
    const hub = new MemoryHub()
    const [a, b, c] = [hub.broker(), hub.broker(), hub.broker()]
    const seen = { a: [] as string[], b: [] as string[], c: [] as string[] }
    await a.start({ onPublication: (p) => void seen.a.push(p.channel) })
    await b.start({ onPublication: (p) => void seen.b.push(p.channel) })
    await c.start({ onPublication: (p) => void seen.c.push(p.channel) })
    await a.subscribe('room/1')
    await b.subscribe('room/*')
    const history = { history: { size: 10, ttlMs: 0 } }
    await c.publish('room/1', 1, history)
    await c.publish('room/2', 2, history)
    await a.unsubscribe('room/1')
    await c.publish('room/1', 3, history)
    expect(seen).toEqual({ a: ['room/1'], b: ['room/1', 'room/2', 'room/1'], c: [] })
    // One history for all nodes.
    const h = await a.history('room/1', { limit: 10 }, history.history)
    expect(h.publications.map((p) => p.data)).toEqual([1, 3])
  })

  it('carries node-addressed messages in order, never synchronously, and reports unknown nodes', async () => {
    const hub = new MemoryHub()
    const [one, two] = [hub.bus('one'), hub.bus('two')]
    const got: NodeMessage[] = []
    await one.start({ onNodeMessage: () => {} })
    await two.start({ onNodeMessage: (m) => void got.push(m) })
    const payload = { n: 1 }
    const sent = [one.send('two', 'rpc', payload), one.send('two', 'rpc', { n: 2 })]
    payload.n = 99 // the receiver must see what was sent, not later mutations
    expect(got).toEqual([])
    expect(await Promise.all(sent)).toEqual([true, true])
    await Promise.resolve()
    expect(got).toEqual([
      { from: 'one', topic: 'rpc', payload: { n: 1 } },
      { from: 'one', topic: 'rpc', payload: { n: 2 } },
    ])
    expect(await one.send('three', 'rpc', {})).toBe(false)
    await two.close()
    expect(await one.send('two', 'rpc', {})).toBe(false)
    await expect(hub.bus('one').start({ onNodeMessage: () => {} })).rejects.toThrow(/already/)
  })
})
