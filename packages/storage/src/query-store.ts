import type { Condition, SortKey } from '@switchboard/protocol'
import type { RecordStore } from './record-store.js'

/**
 * One query over a collection, as live queries and one-off queries ask a store for it. The
 * semantics are `@switchboard/protocol`'s (compileWhere, compareSorted): type-strict
 * conditions, type-ranked ordering with strings by code point, ties by record name.
 */
export interface StoreQuery {
  /** Records whose name is `<collection>/<one segment>`; tombstones never match. */
  readonly collection: string
  readonly where: readonly Condition[]
  readonly orderBy: readonly SortKey[]
  /** At most this many rows, the first in query order. */
  readonly limit: number
  /** Only rows strictly after this position in query order (the next page after a row). */
  readonly after?: QueryCursor
}

/** A position in query order: a row's values at the orderBy paths (undefined = missing) and its name. */
export interface QueryCursor {
  readonly values: readonly unknown[]
  readonly name: string
}

export interface StoredRow {
  readonly name: string
  readonly version: number
  readonly data: unknown
}

/**
 * Optional capability of a RecordStore: runs queries itself (SQL stores push them down, never
 * loading a collection into JavaScript). Checked by `describeQueryableStoreContract`, whose
 * cases pin down the comparison semantics every backend must share.
 *
 * Invariants:
 * - `query` returns what filtering every live record of the collection with `compileWhere`,
 *   sorting with `compareSorted` and cutting at `after`/`limit` would, reading committed data
 *   (a write whose promise resolved is seen).
 * - `ensureIndex` is idempotent and safe when several nodes start at once; afterwards queries on
 *   the collection whose conditions and ordering use those paths (in that order) can use it.
 */
export interface QueryableStore {
  query(query: StoreQuery): Promise<StoredRow[]>
  /** Creates (once) an index on these paths (as segments) for the collection's records. */
  ensureIndex(collection: string, paths: readonly (readonly string[])[]): Promise<void>
}

export function isQueryable(store: RecordStore): store is RecordStore & QueryableStore {
  const s = store as RecordStore & Partial<QueryableStore>
  return typeof s.query === 'function' && typeof s.ensureIndex === 'function'
}
