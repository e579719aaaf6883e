/** Record messages: subscribe, read, write (set, update, delete), changes. */
import type { ErrorCode } from '../codes.js'
import type { UpdateOps } from '../record-ops.js'

// ---- client → server
/**
 * Subscribe to a record. The reply is a snapshot (`RecordSnapshotReply`); after it, every
 * committed change arrives as `rchg`, in version order.
 */
export interface RecordSubscribeMessage {
  t: 'rsub'
  id: number
  n: string
  /** The version the client already has: when it is current the reply carries no data. */
  v?: number
  /** Write ids whose outcome the client does not know (sent before a disconnect). */
  w?: string[]
}
export interface RecordUnsubscribeMessage {
  t: 'runsub'
  id: number
  n: string
}
/** One-off read; also how a client resyncs after a version gap. */
export interface RecordGetMessage {
  t: 'rget'
  id: number
  n: string
  w?: string[]
}
/** Sets the whole document (no `p`) or the value at dotted path `p`. */
export interface RecordSetMessage {
  t: 'rset'
  id: number
  n: string
  p?: string
  d: unknown
  /** ifVersion: fail with VERSION_CONFLICT unless the record is at this version. */
  iv?: number
  /** A client-chosen write id (unique per client): a resent write with the same id is applied once. */
  w?: string
}
export interface RecordUpdateMessage {
  t: 'rupd'
  id: number
  n: string
  ops: UpdateOps
  iv?: number
  w?: string
}
export interface RecordDeleteMessage {
  t: 'rdel'
  id: number
  n: string
  iv?: number
  w?: string
}
export type RecordClientMessage =
  | RecordSubscribeMessage
  | RecordUnsubscribeMessage
  | RecordGetMessage
  | RecordSetMessage
  | RecordUpdateMessage
  | RecordDeleteMessage

// ---- server → client
/**
 * One committed change: version `v` is the record's version after it. Exactly one of:
 * `d` without `p` (whole document), `p` + `d` (one path), `ops` (atomic update), `del`.
 * `w` is the writer's write id, so the writer recognises its own change.
 */
export interface RecordChangeMessage {
  t: 'rchg'
  n: string
  v: number
  p?: string
  d?: unknown
  ops?: UpdateOps
  del?: true
  w?: string
}
/** The server ended a record subscription (e.g. a token refresh removed the right to read it). */
export interface RecordEndedMessage {
  t: 'rend'
  n: string
  code: ErrorCode
  msg: string
}
export type RecordServerMessage = RecordChangeMessage | RecordEndedMessage

// ---- reply payloads (`r` of OkMessage)
/** Reply to `rsub` and `rget`. No `d`: the record does not exist (`v` > 0: it was deleted). */
export interface RecordSnapshotReply {
  v: number
  d?: unknown
  /** `rsub` with the current version: nothing changed, no data sent. */
  same?: true
  /** Of the write ids asked about, those already included in this snapshot. */
  w?: string[]
}
/** Reply to `rset`, `rupd`, `rdel`: the version the write committed as. */
export interface RecordWriteReply {
  v: number
}
/** `data` of a VERSION_CONFLICT error: the record as it is now. */
export interface RecordConflictData {
  version: number
  /** Absent when the record does not exist. */
  data?: unknown
}
