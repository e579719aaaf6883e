/**
 * The Occupancy conformance suite. Every implementation (memory now, Redis next) runs it through
 * `describeOccupancyContract(name, factory)`: `nodes(n)` returns n started-able registries that
 * share one backend (n nodes of one cluster), fresh for each test.
 */
import { describe, expect, it } from 'vitest'
import type { Occupancy, OccupancyEvent } from '../occupancy.js'

export interface OccupancyFactory {
  nodes(count: number): Promise<Occupancy[]>
}

let seq = 0
const unique = () => `contract/${Date.now().toString(36)}${++seq}`

/** A started node and the events it heard. */
interface Node {
  occupancy: Occupancy
  events: OccupancyEvent[]
  /** Transitions reported through `onCaused`. */
  caused: OccupancyEvent[]
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export function describeOccupancyContract(name: string, factory: OccupancyFactory): void {
  async function started(count: number): Promise<Node[]> {
    const all = await factory.nodes(count)
    const nodes: Node[] = []
    for (const occupancy of all) {
      const node: Node = { occupancy, events: [], caused: [] }
      await occupancy.start({ onOccupancy: (e) => node.events.push(e), onCaused: (e) => node.caused.push(e) })
      nodes.push(node)
    }
    return nodes
  }
  const closeAll = (nodes: Node[]) => Promise.all(nodes.map((n) => n.occupancy.close()))
  const about = (events: OccupancyEvent[], n: string) => events.filter((e) => e.name === n).map((e) => e.change)

  describe(`Occupancy contract: ${name}`, () => {
    it('the first holder on any node occupies a name, the last one to leave vacates it; every node hears both once', async () => {
      const [a, b] = (await started(2)) as [Node, Node]
      const n = unique()
      expect(await a.occupancy.enter('channel', n)).toBe(true)
      expect(await b.occupancy.enter('channel', n)).toBe(false)
      expect(await a.occupancy.enter('channel', n)).toBe(false) // idempotent per node
      expect(await a.occupancy.leave('channel', n)).toBe(false)
      expect(await b.occupancy.leave('channel', n)).toBe(true)
      expect(await b.occupancy.leave('channel', n)).toBe(false)
      await until(() => about(a.events, n).length === 2 && about(b.events, n).length === 2, 'both events on both nodes')
      expect(about(a.events, n)).toEqual(['occupied', 'vacated'])
      expect(about(b.events, n)).toEqual(['occupied', 'vacated'])
      expect(a.events[0]).toEqual({ kind: 'channel', name: n, change: 'occupied' })
      // Transitions made by enter/leave are reported through their results, never `onCaused`.
      expect([...a.caused, ...b.caused]).toEqual([])
      await closeAll([a, b])
    })

    it('events are never delivered inside the call that caused them, and keep the order of transitions', async () => {
      const [a] = (await started(1)) as [Node]
      const n = unique()
      const entering = a.occupancy.enter('record', n)
      expect(a.events).toEqual([])
      await entering
      await a.occupancy.leave('record', n)
      await a.occupancy.enter('record', n)
      await until(() => about(a.events, n).length === 3, 'three events')
      expect(about(a.events, n)).toEqual(['occupied', 'vacated', 'occupied'])
      await closeAll([a])
    })

    it('kinds are separate namespaces; occupied(kind) lists the names any node holds', async () => {
      const [a, b] = (await started(2)) as [Node, Node]
      const [x, y] = [unique(), unique()]
      await a.occupancy.enter('channel', x)
      await b.occupancy.enter('channel', y)
      expect(await b.occupancy.enter('record', x)).toBe(true)
      expect((await a.occupancy.occupied('channel')).filter((s) => s === x || s === y).sort()).toEqual([x, y].sort())
      expect((await a.occupancy.occupied('record')).filter((s) => s === x || s === y)).toEqual([x])
      await b.occupancy.leave('channel', y)
      expect((await b.occupancy.occupied('channel')).filter((s) => s === x || s === y)).toEqual([x])
      await closeAll([a, b])
    })

    it('one owner per name: the first claim wins, the owner may claim again, nobody claims a vacant name', async () => {
      const [a, b] = (await started(2)) as [Node, Node]
      const n = unique()
      expect(await a.occupancy.claim('channel', n, 'L1')).toBe(false) // not occupied
      await b.occupancy.enter('channel', n)
      expect(await a.occupancy.claim('channel', n, 'L1')).toBe(true)
      expect(await b.occupancy.claim('channel', n, 'L2')).toBe(false)
      expect(await a.occupancy.claim('channel', n, 'L1')).toBe(true)
      await b.occupancy.leave('channel', n) // vacating drops the owner
      await b.occupancy.enter('channel', n)
      expect(await b.occupancy.claim('channel', n, 'L2')).toBe(true)
      await closeAll([a, b])
    })

    it('release by the owner frees the name and every node hears released; release by another does nothing', async () => {
      const [a, b] = (await started(2)) as [Node, Node]
      const n = unique()
      await a.occupancy.enter('channel', n)
      await a.occupancy.claim('channel', n, 'L1')
      await b.occupancy.release('channel', n, 'L2')
      expect(await b.occupancy.claim('channel', n, 'L2')).toBe(false)
      await a.occupancy.release('channel', n, 'L1')
      await until(() => about(b.events, n).includes('released'), 'released on the other node')
      await until(() => about(a.events, n).includes('released'), 'released on the releasing node')
      expect(about(b.events, n)).toEqual(['occupied', 'released'])
      expect(await b.occupancy.claim('channel', n, 'L2')).toBe(true)
      await closeAll([a, b])
    })

    it('a closing node leaves what it held and releases what it claimed; the others hear it', async () => {
      const [a, b] = (await started(2)) as [Node, Node]
      const [held, shared] = [unique(), unique()]
      await a.occupancy.enter('channel', held)
      await a.occupancy.enter('channel', shared)
      await b.occupancy.enter('channel', shared)
      expect(await a.occupancy.claim('channel', shared, 'A1')).toBe(true)
      await a.occupancy.close()
      await until(() => about(b.events, held).includes('vacated'), 'vacated after close')
      await until(() => about(b.events, shared).includes('released'), 'released after close')
      expect(await b.occupancy.claim('channel', shared, 'B1')).toBe(true)
      const heardByA = a.events.length
      await b.occupancy.leave('channel', shared)
      await until(() => about(b.events, shared).includes('vacated'), 'vacated')
      expect(a.events.length).toBe(heardByA)
      await closeAll([b])
    })
  })
}
