import type { ErrorCode } from '../codes.js'

/**
 * Listening (active data providers). A connection listens to a name pattern of channels or
 * records; the server tells it, per matching name, when that name gains its first subscriber
 * (`lact` with `a: true`) and when it loses its last one (`a: false`). One listener per name is
 * active at a time: when it goes, another listener of a matching pattern takes over and is told.
 */

/** What a listener watches: channel subscriptions or record subscriptions. */
export type ListenKind = 'channel' | 'record'

// ---- client → server
/** Listen to pattern `p` (or one exact name) of kind `k`. Answered with `ok`. */
export interface ListenMessage {
  t: 'lsn'
  id: number
  k: ListenKind
  p: string
}
/** Stop listening to `p`. Answered with `ok`; names this listener had stay with other listeners. */
export interface UnlistenMessage {
  t: 'unlsn'
  id: number
  k: ListenKind
  p: string
}
export type ListeningClientMessage = ListenMessage | UnlistenMessage

// ---- server → client
/** Name `n` (matching the listened pattern `p` of kind `k`) is now active (`a: true`) or not for this listener. */
export interface ListenActiveMessage {
  t: 'lact'
  k: ListenKind
  p: string
  n: string
  a: boolean
}
/** The server ended listener `p` (e.g. a token refresh removed the permission). */
export interface ListenEndedMessage {
  t: 'lend'
  k: ListenKind
  p: string
  code: ErrorCode
  msg: string
}
export type ListeningServerMessage = ListenActiveMessage | ListenEndedMessage
