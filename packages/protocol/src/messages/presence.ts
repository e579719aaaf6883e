import type { ErrorCode } from '../codes.js'

/**
 * Presence messages. Rooms are channel names, or `$global` for the server-wide room. Watchers
 * get a full snapshot first (`psnap`, or `pcount` in counts-only mode), then changes batched
 * per room and time window (`pdiff` / `pcount`), each encoded once for all watchers.
 */

/** The room of `sb.presence()`; not a valid channel name, so it cannot collide with one. */
export const GLOBAL_ROOM = '$global'

/** A member on the wire: one connection in one room. */
export interface WireMember {
  /** User id, or null for anonymous connections. */
  u: string | null
  /** Client (connection) id. */
  c: string
  /** Metadata given to join; absent when none. */
  m?: unknown
}

// ---- client → server
/** Join room `r` (or update this connection's metadata when already joined). Answered with `ok`. */
export interface PresenceJoinMessage {
  t: 'pjoin'
  id: number
  r: string
  m?: unknown
}
/** Leave room `r`. Answered with `ok` (also when not joined). */
export interface PresenceLeaveMessage {
  t: 'pleave'
  id: number
  r: string
}
/**
 * Watch room `r`: members (default) or counts only (`cnt: true`). Answered with `ok`; the
 * snapshot follows as a push within one batch window. Watching again switches the mode.
 */
export interface PresenceWatchMessage {
  t: 'pwatch'
  id: number
  r: string
  cnt?: boolean
}
export interface PresenceUnwatchMessage {
  t: 'punwatch'
  id: number
  r: string
}
export type PresenceClientMessage =
  PresenceJoinMessage | PresenceLeaveMessage | PresenceWatchMessage | PresenceUnwatchMessage

// ---- server → client
/** Every member of room `r` now: replaces what the watcher knew. */
export interface PresenceSnapshotMessage {
  t: 'psnap'
  r: string
  m: WireMember[]
}
/**
 * Changes in room `r` during one window: `j` members that joined or changed metadata (the
 * latest state of each), `l` client ids that left. Applying it is idempotent.
 */
export interface PresenceDiffMessage {
  t: 'pdiff'
  r: string
  j?: WireMember[]
  l?: string[]
}
/** The number of members of room `r` (counts-only watchers). */
export interface PresenceCountMessage {
  t: 'pcount'
  r: string
  n: number
}
/** The server ended this connection's join (`what: 'join'`) or watch of room `r`, e.g. after a token refresh. */
export interface PresenceEndedMessage {
  t: 'pend'
  r: string
  what: 'join' | 'watch'
  code: ErrorCode
  msg: string
}
export type PresenceServerMessage =
  PresenceSnapshotMessage | PresenceDiffMessage | PresenceCountMessage | PresenceEndedMessage
