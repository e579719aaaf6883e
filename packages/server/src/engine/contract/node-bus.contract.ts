/**
 * The NodeBus conformance suite. Every implementation (the memory hub's, Redis) runs it through
 * `describeNodeBusContract(name, factory)`; the factory returns a bus for a new node id on a
 * backend that the buses of one test share.
 */
import { describe, expect, it } from 'vitest'
import type { NodeBus, NodeBusHandler, NodeMessage } from '../node-bus.js'

export interface NodeBusFactory {
  /** A bus for node `nodeId`, on the same backend as the other buses this factory made. */
  create(nodeId: string): Promise<NodeBus>
}

function inbox(): NodeBusHandler & { messages: NodeMessage[]; waitFor(n: number): Promise<void> } {
  const messages: NodeMessage[] = []
  return {
    messages,
    onNodeMessage: (m) => void messages.push(m),
    async waitFor(n) {
      const until = Date.now() + 5000
      while (messages.length < n) {
        if (Date.now() > until) throw new Error(`expected ${n} node messages, got ${messages.length}`)
        await new Promise((r) => setTimeout(r, 5))
      }
    },
  }
}

let seq = 0
const unique = (role: string) => `${role}-${Date.now().toString(36)}-${++seq}`

export function describeNodeBusContract(name: string, factory: NodeBusFactory): void {
  describe(`NodeBus contract: ${name}`, () => {
    const node = async (role: string) => {
      const bus = await factory.create(unique(role))
      const handler = inbox()
      await bus.start(handler)
      return { bus, handler }
    }

    it('delivers a message to the addressed node once, with its sender, topic and payload', async () => {
      const a = await node('a')
      const b = await node('b')
      const c = await node('c')
      expect(await a.bus.send(b.bus.nodeId, 'rpc', { x: [1, 'two'], y: null })).toBe(true)
      await b.handler.waitFor(1)
      expect(b.handler.messages).toEqual([{ from: a.bus.nodeId, topic: 'rpc', payload: { x: [1, 'two'], y: null } }])
      // Nobody else hears it, and nothing arrives twice.
      expect(await a.bus.send(b.bus.nodeId, 'rpc', 'second')).toBe(true)
      await b.handler.waitFor(2)
      expect(b.handler.messages).toHaveLength(2)
      expect(a.handler.messages).toEqual([])
      expect(c.handler.messages).toEqual([])
      await Promise.all([a.bus.close(), b.bus.close(), c.bus.close()])
    })

    it('keeps the order of messages from one node to another', async () => {
      const a = await node('a')
      const b = await node('b')
      const sends: Promise<boolean>[] = []
      for (let i = 0; i < 100; i++) sends.push(a.bus.send(b.bus.nodeId, 't', i))
      expect(await Promise.all(sends)).toEqual(Array.from({ length: 100 }, () => true))
      await b.handler.waitFor(100)
      expect(b.handler.messages.map((m) => m.payload)).toEqual(Array.from({ length: 100 }, (_, i) => i))
      await Promise.all([a.bus.close(), b.bus.close()])
    })

    it('delivery is never synchronous inside send, and a node may address itself', async () => {
      const a = await node('a')
      const sent = a.bus.send(a.bus.nodeId, 'self', 1)
      expect(a.handler.messages).toEqual([])
      expect(await sent).toBe(true)
      await a.handler.waitFor(1)
      expect(a.handler.messages[0]).toEqual({ from: a.bus.nodeId, topic: 'self', payload: 1 })
      await a.bus.close()
    })

    it('the payload arrives as a copy: later changes by the sender do not reach the receiver', async () => {
      const a = await node('a')
      const b = await node('b')
      const payload = { n: 1 }
      await a.bus.send(b.bus.nodeId, 't', payload)
      payload.n = 2
      await b.handler.waitFor(1)
      expect(b.handler.messages[0]?.payload).toEqual({ n: 1 })
      await Promise.all([a.bus.close(), b.bus.close()])
    })

    it('send to a node nobody runs resolves false and delivers nothing', async () => {
      const a = await node('a')
      expect(await a.bus.send(unique('ghost'), 't', 1)).toBe(false)
      await a.bus.close()
    })

    it('after close the node receives nothing and sends to it resolve false', async () => {
      const a = await node('a')
      const b = await node('b')
      await b.bus.close()
      expect(await a.bus.send(b.bus.nodeId, 't', 1)).toBe(false)
      // A round trip to a live node proves the closed one had its chance to (wrongly) receive.
      await a.bus.send(a.bus.nodeId, 't', 'probe')
      await a.handler.waitFor(1)
      expect(b.handler.messages).toEqual([])
      await a.bus.close()
    })

    it('refuses a second live bus with the same node id', async () => {
      const a = await node('a')
      const twin = await factory.create(a.bus.nodeId)
      await expect(twin.start(inbox())).rejects.toThrow(/node id/)
      await twin.close().catch(() => {})
      // The first one still works.
      expect(await a.bus.send(a.bus.nodeId, 't', 1)).toBe(true)
      await a.handler.waitFor(1)
      await a.bus.close()
    })
  })
}
