import type { Broker } from './broker.js'
import type { NodeBus } from './node-bus.js'
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
  /** Presence members, with TTLs where nodes share the store. */
  readonly presenceStore: PresenceStore
  /** RPC providers and call routing. */
  readonly rpcRouter: RpcRouter
  /** Which names have subscribers on any node, and which listener owns each. */
  readonly occupancy: Occupancy
}
