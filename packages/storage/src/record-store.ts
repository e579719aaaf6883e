/**
 * The storage seam for records. A store keeps one JSON document and one version per record
 * name, and changes them only by compare-and-set. It knows nothing of clients, subscriptions,
 * paths or permissions: the record service in core applies changes and decides what to write.
 *
 * Invariants (checked by `describeRecordStoreContract` in `@switchboard/storage/contract`,
 * which every implementation runs):
 * - Versions: a name that was never written has no entry (`get` → null, version 0 for
 *   compare-and-set). Every successful `write`/`delete` sets the version to `newVersion`
 *   (default `expectedVersion + 1`); versions only ever go up.
 * - Compare-and-set: `write` and `delete` succeed only when the stored version equals
 *   `expectedVersion` (0 for a name never written). Otherwise nothing changes and the result
 *   carries the current entry (`null` when there is none). Check and change are atomic.
 * - Tombstones: `delete` keeps the name with its new version and `data: undefined`, so a record
 *   created again continues from that version instead of starting over at 1.
 * - Durability: a returned promise resolves only after the change is committed (survives a
 *   process crash; with the durable settings of each backend, a power loss too). Nothing is
 *   acknowledged before it is committed, even when calls are batched into one transaction.
 * - Order: calls are applied in the order they were made, also when several are in flight
 *   at once (so `write(n, a, 0)` then `write(n, b, 1)` without awaiting both succeed).
 * - Copies: data is stored as JSON. `get` returns what `JSON.parse(JSON.stringify(data))`
 *   would (key order may differ, e.g. PostgreSQL's JSONB); mutating an object after writing
 *   it, or mutating a returned object, never changes what is stored.
 * - Errors: every method is async and rejects only with a `StorageError`. After `close()`
 *   every call rejects with code `CLOSED`; `close()` first lets accepted writes finish.
 */
export interface RecordStore {
  /** The entry for a name: null if it was never written; `data` undefined if it was deleted. */
  get(name: string): Promise<StoredRecord | null>
  /** Entries for several names (tombstones included); names never written are left out. */
  getMany(names: readonly string[]): Promise<Map<string, StoredRecord>>
  /**
   * Stores `data` at `newVersion` if the stored version is `expectedVersion`. `data` must be
   * JSON-serialisable and not undefined (use `delete`).
   */
  write(name: string, data: unknown, expectedVersion: number, newVersion?: number): Promise<WriteResult>
  /** Turns the entry into a tombstone at `newVersion` if the stored version is `expectedVersion`. */
  delete(name: string, expectedVersion: number, newVersion?: number): Promise<WriteResult>
  /** Waits for accepted writes to commit, then releases connections and files. */
  close(): Promise<void>
}

export interface StoredRecord {
  /** 1 or more: the version of the last committed write. */
  readonly version: number
  /** The document; undefined when the record was deleted (a tombstone). */
  readonly data: unknown
}

export type WriteResult =
  | { readonly ok: true; readonly version: number }
  /** The compare-and-set failed: nothing changed; `current` is what is stored now. */
  | { readonly ok: false; readonly current: StoredRecord | null }

/** One change as a store's batch commit sees it: `data` undefined means delete. */
export interface StoreWrite {
  readonly name: string
  readonly data: unknown
  readonly expectedVersion: number
  readonly newVersion: number
}
