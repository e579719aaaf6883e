/** Live query messages: subscribe, unsubscribe, result changes. */
import type { ErrorCode } from '../codes.js'
import type { OrderKey, WhereClause } from '../query/spec.js'

// ---- client → server
/**
 * Opens a live query. The reply (`QuerySubscribeReply`) is the current result; after it,
 * every change of the result arrives as `qchg` with the same `q`.
 */
export interface QuerySubscribeMessage {
  t: 'qsub'
  id: number
  /** The client's id for this query, unique on the connection while it is open. */
  q: number
  /** Collection. */
  c: string
  w?: WhereClause[]
  o?: OrderKey[]
  l?: number
  /**
   * The rows the client already has, as [name, version] (after a reconnect): the reply then
   * leaves out the data of rows it has at the current version.
   */
  k?: [string, number][]
}
export interface QueryUnsubscribeMessage {
  t: 'qunsub'
  id: number
  q: number
}
export type QueryClientMessage = QuerySubscribeMessage | QueryUnsubscribeMessage

// ---- server → client
/** A row: [name, version, data]. */
export type QueryRowTuple = [name: string, version: number, data: unknown]
/**
 * A change of a live query's result: rows that left (`rm`, by name) and rows that entered or
 * changed (`up`). The client orders rows itself (the query's orderBy, ties by name). With
 * `all`, `up` is the whole result and every other row left (sent when the server re-ran the
 * query, e.g. after a token refresh changed what the user may read).
 */
export interface QueryChangeMessage {
  t: 'qchg'
  q: number
  rm?: string[]
  up?: QueryRowTuple[]
  all?: true
}
/** The server ended a live query (e.g. a token refresh removed the right to read the collection). */
export interface QueryEndedMessage {
  t: 'qend'
  q: number
  code: ErrorCode
  msg: string
}
export type QueryServerMessage = QueryChangeMessage | QueryEndedMessage

// ---- reply payloads
/**
 * Reply to `qsub`: the whole result in query order. A row the client listed in `k` at the same
 * version comes as [name, version] without data.
 */
export interface QuerySubscribeReply {
  rows: (QueryRowTuple | [name: string, version: number])[]
}
