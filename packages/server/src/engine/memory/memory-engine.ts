import { randomBytes } from 'node:crypto'
import type { Engine } from '../engine.js'
import { MemoryBroker } from './memory-broker.js'
import { MemoryHub } from './memory-hub.js'
import { MemoryOccupancy } from './memory-occupancy.js'
import { MemoryPresenceStore } from './memory-presence-store.js'
import { MemoryRpcRouter } from './memory-rpc-router.js'

/** The single-node engine (`engine: { type: memory }`): everything lives in this process. */
export function createMemoryEngine(nodeId: string = randomBytes(6).toString('base64url')): Engine {
  return {
    nodeId,
    broker: new MemoryBroker(),
    bus: new MemoryHub().bus(nodeId),
    presenceStore: new MemoryPresenceStore(),
    rpcRouter: new MemoryRpcRouter(),
    occupancy: new MemoryOccupancy(),
  }
}
