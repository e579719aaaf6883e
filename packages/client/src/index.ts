export { Switchboard, type SwitchboardOptions, type SwitchboardEvents, type TransportName } from './switchboard.js'
export { SwitchboardError } from './errors.js'
export {
  Subscription,
  type PublicationHandler,
  type PublicationInfo,
  type SubscribeOptions,
} from './channels/subscription.js'
export type { HistoryResult, PublishOptions } from './channels/channels.js'
export { RecordHandle, type RecordEvents, type RecordWriteOptions } from './records/record-handle.js'
export type { RecordsApi } from './records/records.js'
export { LiveQuery, type LiveQueryEvents, type QueryChange, type QueryResultRow } from './queries/live-query.js'
export type { QueryOptions, WhereClause, OrderKey, QueryOperator } from '@switchboard/protocol'
export type { RecordDocument, UpdateOps } from '@switchboard/protocol'
export { Rpc, type CallOptions } from './rpc/rpc.js'
export { RpcProvider, type RpcContext, type RpcHandler } from './rpc/provider.js'
export { Listener, type ListenHandler, type ListenOptions, type ListenerEvents } from './listening/listener.js'
export { PresenceRoom, type PresenceMember, type PresenceRoomEvents } from './presence/room.js'
export type { ConnectionState } from './connection/state-machine.js'
export type {
  ClientTransport,
  ClientTransportEvents,
  EventSourceConstructor,
  EventSourceLike,
  FetchFunction,
  TransportFactory,
  UpgradeRefusal,
  UpgradeResponse,
  WebSocketConstructor,
  WebSocketLike,
} from './transport/transport.js'
export { retryableCodes, closeCodes, type ErrorCode } from '@switchboard/protocol'
