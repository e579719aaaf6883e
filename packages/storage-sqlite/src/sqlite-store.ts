import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import {
  checkWriteArgs,
  encodeDocument,
  GroupCommit,
  indexColumns,
  queryIndexId,
  SqlParams,
  sqlQuery,
  StorageError,
  toStorageError,
  type QueryableStore,
  type RecordStore,
  type StoredRecord,
  type StoredRow,
  type StoreQuery,
  type StoreWrite,
  type WriteResult,
} from '@switchboard/storage'
import { Checkpointer } from './checkpointer.js'
import { sqliteCollectionPredicate, sqliteDialect } from './sqlite-json.js'
import { WriterThread } from './writer-thread.js'

export interface SqliteRecordStoreOptions {
  /** Database file; its directory is created if missing. `:memory:` for a throwaway database. */
  path: string
  /** Table name (letters, digits, `_`). Default `records`. */
  table?: string
  /**
   * `normal` (default): a commit is appended to the write-ahead log without an fsync. It survives
   * a crash of the process; a power loss or OS crash may lose the last commits (never the
   * database's consistency). Commits run on the event loop (tens of µs); the log is copied back
   * into the database by a checkpointer thread.
   * `full`: every commit is fsynced before it is acknowledged, so it survives a power loss too.
   * Commits then run in a writer thread, so the fsync never blocks the event loop.
   */
  synchronous?: 'normal' | 'full'
  /** Most writes committed in one transaction. Default 1000. */
  maxBatch?: number
}

interface Row {
  version: number
  data: string | null
}

/**
 * Records in one SQLite file (WAL mode) through better-sqlite3. Writes are group-committed:
 * everything submitted in one turn of the event loop goes into one transaction, so a busy
 * server pays one commit for many writes. Reads run on this thread. With `synchronous: 'normal'`
 * commits do too (no fsync; a checkpointer thread moves the log into the database); with
 * `'full'` they run in a writer thread, whose fsync never blocks the event loop (WAL lets this
 * thread's reads run beside it and see every committed write). One process should own the file.
 */
/** Prepared query statements kept, by SQL text (queries of one app take few shapes). */
const MAX_QUERY_STATEMENTS = 256

export class SqliteRecordStore implements RecordStore, QueryableStore {
  private readonly db: Database.Database
  private readonly table: string
  private readonly queries = new Map<string, Database.Statement<unknown[], Row & { name: string }>>()
  private readonly commits: GroupCommit
  private readonly select: Database.Statement<[string], Row>
  private readonly selectMany: Database.Statement<[string], Row & { name: string }>
  private readonly insert: Database.Statement<[string, number, string | null]>
  private readonly update: Database.Statement<[number, string | null, string, number]>
  private readonly commitBatch: (batch: readonly StoreWrite[]) => WriteResult[] | Promise<WriteResult[]>
  private readonly writer: WriterThread | undefined
  private readonly checkpointer: Checkpointer | undefined
  private closed = false

  /** Opens (and creates) the database; throws StorageError UNAVAILABLE when it cannot. */
  constructor(options: SqliteRecordStoreOptions) {
    const table = (this.table = options.table ?? 'records')
    const synchronous = options.synchronous === 'full' ? 'FULL' : 'NORMAL'
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table))
      throw new StorageError('INVALID_ARGUMENT', `invalid table name: ${table}`)
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
      this.db = new Database(options.path)
      this.db.pragma('journal_mode = WAL')
      this.db.pragma(`synchronous = ${synchronous}`)
      this.db.pragma('busy_timeout = 5000')
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS "${table}" (name TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT) WITHOUT ROWID`,
      )
    } catch (err) {
      throw toStorageError(err, `cannot open SQLite database ${options.path}`)
    }
    this.select = this.db.prepare(`SELECT version, data FROM "${table}" WHERE name = ?`)
    this.selectMany = this.db.prepare(
      `SELECT name, version, data FROM "${table}" WHERE name IN (SELECT value FROM json_each(?))`,
    )
    this.insert = this.db.prepare(
      `INSERT INTO "${table}" (name, version, data) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    )
    this.update = this.db.prepare(`UPDATE "${table}" SET version = ?, data = ? WHERE name = ? AND version = ?`)
    if (synchronous === 'FULL' && options.path !== ':memory:') {
      const writer = (this.writer = new WriterThread({ path: options.path, table, synchronous }))
      this.commitBatch = (batch) => writer.commit(batch)
    } else {
      // IMMEDIATE takes the write lock up front, so a batch never fails half-way on a busy lock.
      this.commitBatch = this.db.transaction((batch: readonly StoreWrite[]) =>
        batch.map((w) => this.apply(w)),
      ).immediate
      if (options.path !== ':memory:') {
        this.db.pragma('wal_autocheckpoint = 0')
        this.checkpointer = new Checkpointer(options.path)
      }
    }
    this.commits = new GroupCommit((batch) => this.commitBatch(batch), options.maxBatch ?? 1000)
  }

  async get(name: string): Promise<StoredRecord | null> {
    this.checkOpen()
    const row = this.run(() => this.select.get(name))
    return row ? toStored(row) : null
  }

  async getMany(names: readonly string[]): Promise<Map<string, StoredRecord>> {
    this.checkOpen()
    const out = new Map<string, StoredRecord>()
    if (names.length === 0) return out
    for (const row of this.run(() => this.selectMany.all(JSON.stringify(names)))) out.set(row.name, toStored(row))
    return out
  }

  async write(name: string, data: unknown, expectedVersion: number, newVersion?: number): Promise<WriteResult> {
    this.checkOpen()
    const version = checkWriteArgs(name, expectedVersion, newVersion)
    // Encoded before queueing, so a bad document fails alone instead of failing its batch.
    return this.commits.submit({ name, data: encodeDocument(data), expectedVersion, newVersion: version })
  }

  async delete(name: string, expectedVersion: number, newVersion?: number): Promise<WriteResult> {
    this.checkOpen()
    const version = checkWriteArgs(name, expectedVersion, newVersion)
    return this.commits.submit({ name, data: undefined, expectedVersion, newVersion: version })
  }

  /**
   * The query in SQL (sqlite-json.ts): JSON functions in WHERE and ORDER BY, LIMIT in the
   * database, so only the rows asked for cross into JavaScript.
   */
  async query(q: StoreQuery): Promise<StoredRow[]> {
    this.checkOpen()
    if (!Number.isSafeInteger(q.limit) || q.limit < 1)
      throw new StorageError('INVALID_ARGUMENT', `limit must be a positive integer, got ${String(q.limit)}`)
    const params = new SqlParams(() => '?')
    const { where, orderBy } = sqlQuery(q, sqliteDialect, params)
    const sql = `SELECT name, version, data FROM "${this.table}" WHERE data IS NOT NULL AND ${where} ORDER BY ${orderBy} LIMIT ${q.limit}`
    return this.run(() => this.statement(sql).all(...params.values)).map((row) => ({
      name: row.name,
      version: row.version,
      data: JSON.parse(row.data as string) as unknown,
    }))
  }

  /** A partial index on the collection's records over (rank, number, string) of each path, then name. */
  async ensureIndex(collection: string, paths: readonly (readonly string[])[]): Promise<void> {
    this.checkOpen()
    const id = queryIndexId(this.table, collection, paths)
    const columns = indexColumns(sqliteDialect, paths).join(', ')
    this.run(() =>
      this.db.exec(
        `CREATE INDEX IF NOT EXISTS "${this.table}_q_${id}" ON "${this.table}" (${columns}) WHERE ${sqliteCollectionPredicate(collection)}`,
      ),
    )
  }

  private statement(sql: string): Database.Statement<unknown[], Row & { name: string }> {
    let stmt = this.queries.get(sql)
    if (stmt) {
      // Most recently used last, so the oldest shape is the one dropped.
      this.queries.delete(sql)
    } else {
      stmt = this.db.prepare<unknown[], Row & { name: string }>(sql)
      if (this.queries.size >= MAX_QUERY_STATEMENTS) this.queries.delete(this.queries.keys().next().value as string)
    }
    this.queries.set(sql, stmt)
    return stmt
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.commits.close()
    await this.writer?.close()
    await this.checkpointer?.close()
    if (this.checkpointer) this.run(() => this.db.pragma('wal_checkpoint(TRUNCATE)'))
    this.db.close()
  }

  /** One write inside the batch transaction; `w.data` is JSON text (undefined: delete). */
  private apply(w: StoreWrite): WriteResult {
    const text = w.data === undefined ? null : (w.data as string)
    const changed =
      w.expectedVersion === 0
        ? this.insert.run(w.name, w.newVersion, text).changes
        : this.update.run(w.newVersion, text, w.name, w.expectedVersion).changes
    if (changed === 1) return { ok: true, version: w.newVersion }
    const row = this.select.get(w.name)
    return { ok: false, current: row ? toStored(row) : null }
  }

  private run<T>(fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      throw toStorageError(err, 'SQLite read failed')
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', 'the record store is closed')
  }
}

function toStored(row: Row): StoredRecord {
  return { version: row.version, data: row.data === null ? undefined : (JSON.parse(row.data) as unknown) }
}
