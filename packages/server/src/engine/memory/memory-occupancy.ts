import type { Occupancy, OccupancyEvent, OccupancyHandler, OccupancyKind } from '../occupancy.js'

/** One name's state across the nodes of a table. */
interface Entry {
  readonly kind: OccupancyKind
  readonly name: string
  readonly holders: Set<MemoryOccupancy>
  owner?: { listenerId: string; node: MemoryOccupancy }
}

/**
 * Occupancy state shared by the nodes of one process: the single-node engine has a table of its
 * own, a `MemoryHub` gives its nodes one table between them.
 */
export class OccupancyTable {
  private readonly entries = new Map<string, Entry>()
  private readonly nodes = new Set<MemoryOccupancy>()

  /** A node's view of this table. */
  node(): Occupancy {
    return new MemoryOccupancy(this)
  }

  /** @internal */
  join(node: MemoryOccupancy): void {
    this.nodes.add(node)
  }

  /** @internal */
  enter(node: MemoryOccupancy, kind: OccupancyKind, name: string): boolean {
    const key = keyOf(kind, name)
    let entry = this.entries.get(key)
    if (!entry) this.entries.set(key, (entry = { kind, name, holders: new Set() }))
    if (entry.holders.has(node)) return false
    entry.holders.add(node)
    if (entry.holders.size > 1) return false
    this.broadcast({ kind, name, change: 'occupied' })
    return true
  }

  /** @internal */
  leave(node: MemoryOccupancy, kind: OccupancyKind, name: string): boolean {
    const key = keyOf(kind, name)
    const entry = this.entries.get(key)
    if (!entry?.holders.delete(node) || entry.holders.size > 0) return false
    this.entries.delete(key)
    this.broadcast({ kind, name, change: 'vacated' })
    return true
  }

  /** @internal */
  occupied(kind: OccupancyKind): string[] {
    const names: string[] = []
    for (const entry of this.entries.values()) if (entry.kind === kind) names.push(entry.name)
    return names
  }

  /** @internal */
  claim(node: MemoryOccupancy, kind: OccupancyKind, name: string, listenerId: string): boolean {
    const entry = this.entries.get(keyOf(kind, name))
    if (!entry) return false
    if (entry.owner) return entry.owner.listenerId === listenerId
    entry.owner = { listenerId, node }
    return true
  }

  /** @internal */
  release(kind: OccupancyKind, name: string, listenerId: string): void {
    const entry = this.entries.get(keyOf(kind, name))
    if (entry?.owner?.listenerId !== listenerId) return
    delete entry.owner
    this.broadcast({ kind, name, change: 'released' })
  }

  /** @internal A node closed: what it held and claimed goes, as if it had left and released. */
  drop(node: MemoryOccupancy): void {
    this.nodes.delete(node)
    for (const entry of [...this.entries.values()]) {
      if (entry.holders.has(node)) this.leave(node, entry.kind, entry.name)
      if (entry.owner?.node === node) this.release(entry.kind, entry.name, entry.owner.listenerId)
    }
  }

  private broadcast(event: OccupancyEvent): void {
    for (const node of this.nodes) node.deliver(event)
  }
}

/**
 * A node's occupancy registry in memory. Events reach handlers in a microtask (never inside the
 * call that caused them), in the order they happened.
 */
export class MemoryOccupancy implements Occupancy {
  private handler: OccupancyHandler | undefined

  constructor(private readonly table: OccupancyTable = new OccupancyTable()) {}

  async start(handler: OccupancyHandler): Promise<void> {
    this.handler = handler
    this.table.join(this)
  }

  async enter(kind: OccupancyKind, name: string): Promise<boolean> {
    return this.table.enter(this, kind, name)
  }

  async leave(kind: OccupancyKind, name: string): Promise<boolean> {
    return this.table.leave(this, kind, name)
  }

  async occupied(kind: OccupancyKind): Promise<string[]> {
    return this.table.occupied(kind)
  }

  async claim(kind: OccupancyKind, name: string, listenerId: string): Promise<boolean> {
    return this.table.claim(this, kind, name, listenerId)
  }

  async release(kind: OccupancyKind, name: string, listenerId: string): Promise<void> {
    this.table.release(kind, name, listenerId)
  }

  async close(): Promise<void> {
    this.handler = undefined
    this.table.drop(this)
  }

  /** @internal */
  deliver(event: OccupancyEvent): void {
    const handler = this.handler
    if (handler) queueMicrotask(() => this.handler === handler && handler.onOccupancy(event))
  }
}

function keyOf(kind: OccupancyKind, name: string): string {
  return `${kind}\n${name}`
}
