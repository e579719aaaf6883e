/** Channel messages: subscribe, publish, history, deliveries. */
import type { ErrorCode } from '../codes.js'

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

// ---- client → server
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
export type ChannelClientMessage = SubscribeMessage | UnsubscribeMessage | PublishMessage | HistoryMessage

// ---- server → client
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
export type ChannelServerMessage = PublicationMessage | UnsubscribedMessage

// ---- reply payloads (`r` of OkMessage)
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
