import type { Broker } from './broker.js'
import type { CommittedWrites } from './committed-writes.js'
import type { NodeBus } from './node-bus.js'
import type { NodeTopics } from './node-topics.js'
import type { Occupancy } from './occupancy.js'
import type { PresenceStore } from './presence-store.js'
import type { RpcRouter } from './rpc-router.js'

/**
 * Everything that crosses node boundaries, from one engine configuration (`engine.type`): the
 * memory engine keeps it in this process; a cluster engine shares it between nodes. Each part
 * is a small contract of its own with a conformance suite; core owns local state (sessions,
 * subscriptions, dispatch, permissions) and only asks the engine to move and keep things.
 */
export interface Engine {
  /** This node's id on the engine (the bus's). */
  readonly nodeId: string
  /** Publications with offsets and history: user channels and internal streams (record changes). */
  readonly broker: Broker
  /** Node-addressed messages. */
  readonly bus: NodeBus
  /**
   * Engines that start `bus` themselves (in `open`) route its messages here, and core adds its
   * own topics (the fallback transports' relay) before `open`. Absent: core starts `bus`.
   */
  readonly topics?: NodeTopics
  /** Presence members, with TTLs where nodes share the store. */
  readonly presenceStore: PresenceStore
  /** RPC providers and call routing. */
  readonly rpcRouter: RpcRouter
  /** Which names have subscribers on any node, and which listener owns each. */
  readonly occupancy: Occupancy
  /** Cluster engines: record write ids committed on any node, so a resend through another node applies once. */
  readonly committedWrites?: CommittedWrites
  /** Opens what the parts share (connections), before any part starts; absent when nothing is shared. */
  open?(): Promise<void>
  /** Closes what the parts share, after every part closed. */
  close?(): Promise<void>
  /** Engines that depend on a service (Redis) report whether it is reachable; absent = always ready. */
  readonly health?: EngineHealth
}

/** Optional capability of cluster engines: the nodes alive in the cluster (the admin view lists them). */
export interface NodeListing {
  liveNodes(): string[]
}

export function listsNodes(engine: Engine): engine is Engine & NodeListing {
  return typeof (engine as Partial<NodeListing>).liveNodes === 'function'
}

/**
 * Whether an engine that depends on a service can do its work. The server answers `/readyz`
 * with 503 and refuses new connections while `ready` is false, and closes every session (with
 * a reconnect code) when the engine reports a disruption: deliveries may have been lost, and
 * a reconnecting client recovers what it missed from history, or learns that it cannot.
 */
export interface EngineHealth {
  /** True while the service is reachable: publishes can be stored and deliveries arrive. */
  readonly ready: boolean
  /** `listener` runs each time deliveries to this node may have been lost (its connection dropped). */
  onDisrupted(listener: () => void): void
}
