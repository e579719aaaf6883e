/**
 * Wire messages, version 1. Every frame is one JSON object, or a JSON array of objects
 * (a batch the server sends when several messages are queued for one connection).
 * Keys are short because publications are the bulk of the traffic; docs/protocol.md is the
 * readable reference. Each concept keeps its messages in messages/<concept>.ts and joins the
 * unions below with one line.
 */
import type { ErrorCode } from './codes.js'
import type { ChannelClientMessage, ChannelServerMessage } from './messages/channels.js'
import type { ConnectionClientMessage, ConnectionServerMessage } from './messages/connection.js'
import type { RecordClientMessage, RecordServerMessage } from './messages/records.js'
import type { PresenceClientMessage, PresenceServerMessage } from './messages/presence.js'
import type { RpcClientMessage, RpcServerMessage } from './messages/rpc.js'
import type { ListeningClientMessage, ListeningServerMessage } from './messages/listening.js'
import type { QueryClientMessage, QueryServerMessage } from './messages/queries.js'

export * from './messages/connection.js'
export * from './messages/channels.js'
export * from './messages/records.js'
export * from './messages/rpc.js'
export * from './messages/presence.js'
export * from './messages/listening.js'
export * from './messages/queries.js'

export const PROTOCOL_VERSION = 1

export type ClientMessage =
  | ConnectionClientMessage
  | ChannelClientMessage
  | RecordClientMessage
  | RpcClientMessage
  | PresenceClientMessage
  | ListeningClientMessage
  | QueryClientMessage

export type ClientMessageType = ClientMessage['t']

/** Successful reply to a request; `r` is request-specific (see the Reply types). */
export interface OkMessage {
  t: 'ok'
  id: number
  r?: unknown
}
export interface ErrorMessage {
  t: 'err'
  /** The request id, when the error answers a request. */
  id?: number
  code: ErrorCode
  msg: string
  /** Extra, code-specific detail. */
  data?: unknown
}

/** Messages the server pushes on its own (everything but replies). */
export type ServerPush =
  | ConnectionServerMessage
  | ChannelServerMessage
  | RecordServerMessage
  | RpcServerMessage
  | PresenceServerMessage
  | ListeningServerMessage
  | QueryServerMessage

export type ServerMessage = OkMessage | ErrorMessage | ServerPush
export type ServerPushType = ServerPush['t']
