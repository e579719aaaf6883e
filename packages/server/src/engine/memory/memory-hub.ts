import { isPattern, type NamePattern, type StreamPosition } from '@switchboard/protocol'
import type {
  Broker,
  BrokerHandler,
  HistoryOptions,
  HistoryQuery,
  HistoryResult,
  Publication,
  PublishOptions,
} from '../broker.js'
import type { Engine } from '../engine.js'
import { compileStreamPattern } from '../stream-pattern.js'
import type { NodeBus, NodeBusHandler } from '../node-bus.js'
import { MemoryBroker } from './memory-broker.js'
import { OccupancyTable } from './memory-occupancy.js'
import { MemoryPresenceStore } from './memory-presence-store.js'
import { MemoryRpcRouter } from './memory-rpc-router.js'

/**
 * Several nodes inside one process, joined the way a cluster engine joins them: one history per
 * stream shared by all, each node receiving only the streams it subscribed to, and a bus for
 * node-addressed messages. Used to run several servers in one process (tests, embedding) and
 * as the bus of the single-node memory engine.
 */
export class MemoryHub {
  private readonly streams = new MemoryBroker()
  private readonly brokers = new Set<HubBroker>()
  private readonly buses = new Map<string, HubBus>()
  private readonly occupancy = new OccupancyTable()
  private readonly started: Promise<void>
  private nodes = 0

  constructor() {
    this.started = this.streams.start({
      onPublication: (p) => {
        for (const broker of this.brokers) broker.deliver(p)
      },
    })
  }

  /**
   * An engine for one more node on this hub: channels, record change streams, node messages and
   * occupancy cross between the hub's nodes; presence and RPC stay within each node.
   */
  engine(nodeId = `node-${++this.nodes}`): Engine {
    return {
      nodeId,
      broker: this.broker(),
      bus: this.bus(nodeId),
      presenceStore: new MemoryPresenceStore(),
      rpcRouter: new MemoryRpcRouter(),
      occupancy: this.occupancy.node(),
    }
  }

  /** A broker for one node. */
  broker(): Broker {
    return new HubBroker(this.streams, this.started, this.brokers)
  }

  /** A bus endpoint for node `nodeId` (unique on this hub). */
  bus(nodeId: string): NodeBus {
    return new HubBus(nodeId, this.buses)
  }
}

class HubBroker implements Broker {
  private handler: BrokerHandler | undefined
  /** Reference counts: core subscribes per first local subscriber, but a count costs nothing. */
  private readonly exact = new Map<string, number>()
  private readonly patterns = new Map<string, { pattern: NamePattern; count: number }>()

  constructor(
    private readonly streams: MemoryBroker,
    private readonly started: Promise<void>,
    private readonly brokers: Set<HubBroker>,
  ) {}

  async start(handler: BrokerHandler): Promise<void> {
    await this.started
    this.handler = handler
    this.brokers.add(this)
  }

  async subscribe(channel: string): Promise<void> {
    if (isPattern(channel)) {
      const entry = this.patterns.get(channel)
      if (entry) entry.count++
      else this.patterns.set(channel, { pattern: compileStreamPattern(channel), count: 1 })
    } else {
      this.exact.set(channel, (this.exact.get(channel) ?? 0) + 1)
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    if (isPattern(channel)) {
      const entry = this.patterns.get(channel)
      if (entry && --entry.count === 0) this.patterns.delete(channel)
    } else {
      const count = this.exact.get(channel) ?? 0
      if (count <= 1) this.exact.delete(channel)
      else this.exact.set(channel, count - 1)
    }
  }

  publish(channel: string, data: unknown, options: PublishOptions): Promise<StreamPosition> {
    return this.streams.publish(channel, data, options)
  }

  history(channel: string, query: HistoryQuery, options: HistoryOptions): Promise<HistoryResult> {
    return this.streams.history(channel, query, options)
  }

  async close(): Promise<void> {
    this.brokers.delete(this)
    this.handler = undefined
  }

  /** Called for every publication on the hub, synchronously inside the publisher's `publish`. */
  deliver(publication: Publication): void {
    if (!this.handler || !this.wants(publication.channel)) return
    this.handler.onPublication(publication)
  }

  private wants(channel: string): boolean {
    if (this.exact.has(channel)) return true
    for (const { pattern } of this.patterns.values()) if (pattern.matches(channel)) return true
    return false
  }
}

class HubBus implements NodeBus {
  private handler: NodeBusHandler | undefined

  constructor(
    readonly nodeId: string,
    private readonly buses: Map<string, HubBus>,
  ) {}

  async start(handler: NodeBusHandler): Promise<void> {
    if (this.buses.has(this.nodeId)) throw new Error(`node id ${this.nodeId} is already on this hub`)
    this.handler = handler
    this.buses.set(this.nodeId, this)
  }

  async send(nodeId: string, topic: string, payload: unknown): Promise<boolean> {
    const target = this.buses.get(nodeId)
    if (!target) return false
    // Copied as a network would, so neither side can see the other's later mutations; a
    // microtask keeps delivery asynchronous and in send order.
    const message = { from: this.nodeId, topic, payload: structuredClone(payload) }
    queueMicrotask(() => target.handler?.onNodeMessage(message))
    return true
  }

  async close(): Promise<void> {
    if (this.buses.get(this.nodeId) === this) this.buses.delete(this.nodeId)
    this.handler = undefined
  }
}
