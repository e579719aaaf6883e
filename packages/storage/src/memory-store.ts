import { collectionOf, compareSorted, compileWhere, sortValuesOf, type SortValues } from '@switchboard/protocol'
import { checkWriteArgs, encodeDocument, StorageError } from './errors.js'
import type { QueryableStore, StoredRow, StoreQuery } from './query-store.js'
import type { RecordStore, StoredRecord, WriteResult } from './record-store.js'

interface Entry {
  version: number
  /** JSON text; undefined for a tombstone. Kept as text so callers never share objects with the store. */
  text: string | undefined
}

/**
 * Records in this process's memory: for tests and throwaway development servers. Lost on
 * restart. Every operation completes atomically in the call, so order holds trivially.
 */
export class MemoryRecordStore implements RecordStore, QueryableStore {
  private readonly entries = new Map<string, Entry>()
  private closed = false

  async get(name: string): Promise<StoredRecord | null> {
    this.checkOpen()
    const e = this.entries.get(name)
    return e ? toStored(e) : null
  }

  async getMany(names: readonly string[]): Promise<Map<string, StoredRecord>> {
    this.checkOpen()
    const out = new Map<string, StoredRecord>()
    for (const name of names) {
      const e = this.entries.get(name)
      if (e) out.set(name, toStored(e))
    }
    return out
  }

  async write(name: string, data: unknown, expectedVersion: number, newVersion?: number): Promise<WriteResult> {
    this.checkOpen()
    const version = checkWriteArgs(name, expectedVersion, newVersion)
    const text = encodeDocument(data)
    return this.swap(name, expectedVersion, { version, text })
  }

  async delete(name: string, expectedVersion: number, newVersion?: number): Promise<WriteResult> {
    this.checkOpen()
    const version = checkWriteArgs(name, expectedVersion, newVersion)
    return this.swap(name, expectedVersion, { version, text: undefined })
  }

  async close(): Promise<void> {
    this.closed = true
  }

  /** Scans every record (it is all in memory anyway) with the protocol's own semantics. */
  async query(q: StoreQuery): Promise<StoredRow[]> {
    this.checkOpen()
    const match = compileWhere(q.where)
    const rows: { row: StoredRow; values: SortValues }[] = []
    for (const [name, e] of this.entries) {
      if (e.text === undefined || collectionOf(name) !== q.collection) continue
      const data = JSON.parse(e.text) as unknown
      if (!match(data)) continue
      const values = sortValuesOf(q.orderBy, data)
      if (q.after && compareSorted(q.orderBy, values, name, q.after.values, q.after.name) <= 0) continue
      rows.push({ row: { name, version: e.version, data }, values })
    }
    rows.sort((a, b) => compareSorted(q.orderBy, a.values, a.row.name, b.values, b.row.name))
    return rows.slice(0, q.limit).map((r) => r.row)
  }

  /** Nothing to index in memory. */
  async ensureIndex(): Promise<void> {
    this.checkOpen()
  }

  private swap(name: string, expectedVersion: number, next: Entry): WriteResult {
    const current = this.entries.get(name)
    if ((current?.version ?? 0) !== expectedVersion) return { ok: false, current: current ? toStored(current) : null }
    this.entries.set(name, next)
    return { ok: true, version: next.version }
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', 'the record store is closed')
  }
}

function toStored(e: Entry): StoredRecord {
  return { version: e.version, data: e.text === undefined ? undefined : (JSON.parse(e.text) as unknown) }
}
