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
  /**
   * The publication's id (unique per user, 1–64 characters): a publish resent with the same id
   * within the server's dedupe window (2 minutes) is answered with the first one's position and
   * published once.
   */
  w?: string
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
/**
 * One page of a paged recovery (the `sub` reply said `rec.more`): the next missed
 * publications of `ch`, oldest first. Pages follow the reply in order, as the connection
 * drains; the last one has no `more` and carries `complete`. Live publications of `ch` start
 * after the last page.
 */
export interface RecoveryPageMessage {
  t: 'recovery'
  ch: string
  e: string
  pubs: RecoveredPublication[]
  /** More pages follow. */
  more?: true
  /** On the last page: true when every missed publication was delivered (none trimmed from history). */
  complete?: boolean
}
export type ChannelServerMessage = PublicationMessage | UnsubscribedMessage | RecoveryPageMessage

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
  /**
   * Present when `since` was given: the missed publications, oldest first. A backlog larger
   * than one page (about a quarter of the server's `maxBufferedBytes`) is paged: this reply
   * holds the first page with `more: true` (and `complete: false`, decided by the last page),
   * and `recovery` messages bring the rest.
   */
  rec?: { pubs: RecoveredPublication[]; complete: boolean; more?: true }
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
