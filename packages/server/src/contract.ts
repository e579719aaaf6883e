/**
 * Test support for whoever implements one of the server's seams or embeds the server: the
 * conformance suites (one per interface; every implementation runs its interface's suite from
 * its own tests) and a clock that tests move by hand.
 *
 *   import { describeBrokerContract } from '@switchboard/server/contract'
 *   describeBrokerContract('redis', { create: async () => new RedisBroker(url) })
 *
 * Its own entry point, so that only tests load vitest (a peer dependency of this entry).
 */
export { describeBrokerContract, type BrokerFactory } from './engine/contract/broker.contract.js'
export { describePresenceStoreContract, type PresenceStoreFactory } from './engine/contract/presence-store.contract.js'
export { describeRpcRouterContract, type RpcRouterFactory } from './engine/contract/rpc-router.contract.js'
export {
  describeTransportContract,
  type PeerEvents,
  type TransportCapabilities,
  type TransportFactory,
  type TransportPeer,
  type TransportSubject,
} from './transports/transport.contract.js'
export { ManualClock } from './testing/manual-clock.js'
