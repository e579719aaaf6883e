/**
 * Wire messages, version 1. Every frame is one JSON object, or a JSON array of objects
 * (a batch the server sends when several messages are queued for one connection).
 * Keys are short because publications are the bulk of the traffic; docs/protocol.md is the
 * readable reference.
 */
import type { ErrorCode } from './codes.js'

export const PROTOCOL_VERSION = 1

/** A position in a channel's stream. `epoch` changes when the stream is reset (history lost). */
export interface StreamPosition {
  offset: number
  epoch: string
}

export interface PublisherInfo {
  /** Authenticated user id, or null for anonymous publishers. */
  user: string | null
  client: string
}

// ---- client → server ----------------------------------------------------------------

export interface HelloMessage {
  t: 'hello'
  id: number
  v: number
  token?: string
  /** Free-form client name and version, for logs. */
  agent?: string
}
export interface SubscribeMessage {
  t: 'sub'
  id: number
  ch: string
  /** Recover from this position: every publication after it, or complete=false. */
  since?: StreamPosition
}
export interface UnsubscribeMessage {
  t: 'unsub'
  id: number
  ch: string
}
export interface PublishMessage {
  t: 'pub'
  id: number
  ch: string
  d: unknown
}
export interface HistoryMessage {
  t: 'hist'
  id: number
  ch: string
  since?: StreamPosition
  limit?: number
}
export interface PingMessage {
  t: 'ping'
}
export interface PongMessage {
  t: 'pong'
}

export type ClientMessage =
  | HelloMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | PublishMessage
  | HistoryMessage
  | PingMessage
  | PongMessage

export type ClientMessageType = ClientMessage['t']

// ---- server → client ----------------------------------------------------------------

export interface WelcomeMessage {
  t: 'welcome'
  id: number
  v: number
  client: string
  /** `{ id, ...claims }` of the authenticated user, or null for anonymous connections. */
  user: Record<string, unknown> | null
  hb: { interval: number; timeout: number }
}
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
/** A publication delivered to a subscriber. */
export interface PublicationMessage {
  t: 'msg'
  ch: string
  o: number
  e: string
  d: unknown
  /** The publisher, when known. */
  p?: PublisherInfo
}
/** The server ended a subscription (e.g. permissions changed). */
export interface UnsubscribedMessage {
  t: 'unsubbed'
  ch: string
  code: ErrorCode
  msg: string
}

export type ServerMessage =
  | WelcomeMessage
  | OkMessage
  | ErrorMessage
  | PublicationMessage
  | UnsubscribedMessage
  | PingMessage
  | PongMessage

// ---- reply payloads (`r` of OkMessage) -------------------------------------------------

export interface RecoveredPublication {
  o: number
  d: unknown
  p?: PublisherInfo
}
export interface SubscribeReply {
  /** The stream's current position at subscribe time. */
  o: number
  e: string
  /** Present when `since` was given: the missed publications, oldest first. */
  rec?: { pubs: RecoveredPublication[]; complete: boolean }
}
export interface PublishReply {
  o: number
  e: string
}
export interface HistoryReply {
  pubs: RecoveredPublication[]
  o: number
  e: string
}
