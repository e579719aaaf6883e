export { createServer } from './server.js'
export type { SwitchboardServer, ServerOptions, ListenOptions, AttachOptions, CloseOptions } from './server.js'
export type { ServerState } from './lifecycle.js'
export { systemClock, type Clock } from './clock.js'
export { SwitchboardError } from './errors.js'
export type { Transport, TransportSink } from './transports/transport.js'
export { EncodedFrame } from './transports/transport.js'
export { createMemoryTransport, type MemoryPeer } from './transports/memory/memory-transport.js'
export type {
  Broker,
  BrokerHandler,
  Publication,
  HistoryOptions,
  HistoryQuery,
  HistoryResult,
} from './engine/broker.js'
export { MemoryBroker } from './engine/memory/memory-broker.js'
export type { Engine, EngineHealth } from './engine/engine.js'
export type { NodeBus, NodeBusHandler, NodeMessage } from './engine/node-bus.js'
export { NodeTopics, type TopicReceiver } from './engine/node-topics.js'
export type { CommittedWrites } from './engine/committed-writes.js'
export { createMemoryEngine } from './engine/memory/memory-engine.js'
export { MemoryHub } from './engine/memory/memory-hub.js'
export { createRedisEngine, type RedisEngineOptions } from './engine/redis/redis-engine.js'
export type { Authenticator, AuthUser, AuthResult, Credentials } from './auth/authenticator.js'
export { isBackend } from './auth/backend.js'
export { signDevelopmentToken, type DevTokenOptions } from './auth/dev-token.js'
export { securityConfigIssues } from './security.js'
export { schemaConfigIssues } from './data-schemas/schema-registry.js'
export type { AccessPolicy, AccessRequest } from './permissions/access-policy.js'
export { allowAll } from './permissions/access-policy.js'
export { RulesPolicy, type Decision } from './permissions/rules-policy.js'
export { compileRulesFile, loadRulesFile } from './permissions/load-rules.js'
export { runRuleCases, type RuleCase, type CaseOutcome } from './permissions/rule-cases.js'
export type { RuleSource } from './permissions/rules-file.js'
export { resolveConfig, DEFAULT_PORT } from './config/resolve.js'
export type { SwitchboardConfig, SwitchboardConfigInput } from './config/types.js'
export { createLogger, type Logger } from './log.js'
export * from './config/index.js'
export type { RpcRouter, RpcRouterHandler, RpcCall, RpcOutcome } from './engine/rpc-router.js'
export { MemoryRpcRouter } from './engine/memory/memory-rpc-router.js'
export type { RpcHandler, RpcContext, RpcProviderHandle } from './rpc/in-process.js'
export type { ServerRpc, ServerCallOptions } from './rpc/server-api.js'
export type { PresenceStore, PresenceMember, JoinResult, SharedPresenceStore } from './engine/presence-store.js'
export { isSharedPresenceStore } from './engine/presence-store.js'
export { MemoryPresenceStore } from './engine/memory/memory-presence-store.js'
export type { ServerPresence } from './presence/server-api.js'
export type { Occupancy, OccupancyEvent, OccupancyHandler, OccupancyKind } from './engine/occupancy.js'
export { MemoryOccupancy, OccupancyTable } from './engine/memory/memory-occupancy.js'
export type { ListenHandler, ServerListener, ServerListenOptions } from './listening/server-api.js'
export type {
  HookEvent,
  HookEventType,
  OccupancyHookEvent,
  ConnectHookEvent,
  DisconnectHookEvent,
} from './hooks/hook-events.js'
export type { ServerEventListener } from './hooks/server-events.js'
export {
  signHook,
  verifyHookSignature,
  HOOK_SIGNATURE_HEADER,
  HOOK_TIMESTAMP_HEADER,
  type VerifyHookOptions,
} from './hooks/signature.js'
export type { ServerQueries } from './queries/server-api.js'
