import pg from 'pg'
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
import { postgresCollectionPredicate, postgresDialect } from './pg-json.js'
import { ReadBatcher } from './read-batcher.js'
import { batchStatement, quoteTable, rounds } from './sql.js'

export interface PostgresRecordStoreOptions {
  /** A connection URL (`postgres://user@host:5432/db`); the `PG*` environment variables fill in what it leaves out. */
  url?: string
  /** Table name, optionally schema-qualified (`app.records`). Default `switchboard_records`. */
  table?: string
  /** Connections in the pool. Default 4. */
  poolSize?: number
  /** Most writes committed in one transaction. Default 1000. */
  maxBatch?: number
}

interface Row {
  name: string
  version: string | number
  data: unknown
}

/**
 * Records in a PostgreSQL table (`name text primary key, version bigint, data jsonb`).
 * Compare-and-set happens in SQL (`UPDATE … WHERE version = $expected`, `INSERT … ON CONFLICT
 * DO NOTHING` for new names); writes submitted in one turn of the event loop are committed as
 * one statement per round in one transaction (group commit), and reads in one turn share one
 * query. Several servers may share the table: compare-and-set keeps them honest.
 */
export class PostgresRecordStore implements RecordStore, QueryableStore {
  private readonly commits: GroupCommit
  private readonly reads: ReadBatcher<StoredRecord>
  private closed = false

  private constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
    maxBatch: number,
  ) {
    this.commits = new GroupCommit((batch) => this.commitBatch(batch), maxBatch)
    this.reads = new ReadBatcher((names) => this.fetch(names))
  }

  /** Connects and creates the table when missing; rejects with StorageError UNAVAILABLE. */
  static async open(options: PostgresRecordStoreOptions = {}): Promise<PostgresRecordStore> {
    const table = quoteTable(options.table ?? 'switchboard_records')
    const config: pg.PoolConfig = { max: options.poolSize ?? 4 }
    if (options.url) config.connectionString = options.url
    const pool = new pg.Pool(config)
    // An idle connection that dies must not crash the process; the next query reconnects.
    pool.on('error', () => {})
    try {
      await createTable(pool, table)
    } catch (err) {
      await pool.end().catch(() => {})
      throw toStorageError(err, 'cannot prepare the PostgreSQL records table')
    }
    return new PostgresRecordStore(pool, table, options.maxBatch ?? 1000)
  }

  async get(name: string): Promise<StoredRecord | null> {
    this.checkOpen()
    return (await this.reads.get(name)) ?? null
  }

  async getMany(names: readonly string[]): Promise<Map<string, StoredRecord>> {
    this.checkOpen()
    if (names.length === 0) return new Map()
    return this.fetch([...new Set(names)])
  }

  async write(name: string, data: unknown, expectedVersion: number, newVersion?: number): Promise<WriteResult> {
    this.checkOpen()
    const version = checkWriteArgs(name, expectedVersion, newVersion)
    const text = encodeDocument(data)
    // JSONB cannot hold U+0000; refuse it here so it fails alone, not with its whole batch.
    if (/(^|[^\\])(\\\\)*\\u0000/.test(text))
      throw new StorageError('INVALID_DATA', 'PostgreSQL cannot store the character U+0000 in JSONB')
    return this.commits.submit({ name, data: text, expectedVersion, newVersion: version })
  }

  async delete(name: string, expectedVersion: number, newVersion?: number): Promise<WriteResult> {
    this.checkOpen()
    const version = checkWriteArgs(name, expectedVersion, newVersion)
    return this.commits.submit({ name, data: undefined, expectedVersion, newVersion: version })
  }

  /** The query in SQL (pg-json.ts): jsonb operators in WHERE and ORDER BY, LIMIT in the database. */
  async query(q: StoreQuery): Promise<StoredRow[]> {
    this.checkOpen()
    if (!Number.isSafeInteger(q.limit) || q.limit < 1)
      throw new StorageError('INVALID_ARGUMENT', `limit must be a positive integer, got ${String(q.limit)}`)
    const params = new SqlParams((i, v) => `$${i}::${typeof v === 'number' ? 'numeric' : 'text'}`)
    const { where, orderBy } = sqlQuery(q, postgresDialect, params)
    const sql = `SELECT name, version, data FROM ${this.table} WHERE data IS NOT NULL AND ${where} ORDER BY ${orderBy} LIMIT ${q.limit}`
    let rows: Row[]
    try {
      rows = (await this.pool.query<Row>(sql, params.values)).rows
    } catch (err) {
      throw toStorageError(err, 'PostgreSQL query failed')
    }
    return rows.map((row) => ({ name: row.name, version: Number(row.version), data: row.data }))
  }

  /**
   * A partial index on the collection's records over (rank, number, string) of each path, then
   * name. Created under an advisory lock, so nodes starting together do not race; building it on
   * a large table blocks writes to the table until it is done (once, at the first start).
   */
  async ensureIndex(collection: string, paths: readonly (readonly string[])[]): Promise<void> {
    this.checkOpen()
    const id = queryIndexId(this.table, collection, paths)
    const columns = indexColumns(postgresDialect, paths).map((c) => `(${c})`)
    const sql = `CREATE INDEX IF NOT EXISTS "switchboard_q_${id}" ON ${this.table} (${columns.join(', ')}) WHERE ${postgresCollectionPredicate(collection)}`
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (err) {
      throw toStorageError(err, 'cannot reach PostgreSQL')
    }
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchboard:index:${id}`])
      await client.query(sql)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw toStorageError(err, 'cannot create a PostgreSQL query index')
    } finally {
      client.release()
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.commits.close()
    await this.reads.idle()
    await this.pool.end()
  }

  private async fetch(names: readonly string[]): Promise<Map<string, StoredRecord>> {
    let rows: Row[]
    try {
      rows = (
        await this.pool.query<Row>(`SELECT name, version, data FROM ${this.table} WHERE name = ANY($1::text[])`, [
          names,
        ])
      ).rows
    } catch (err) {
      throw toStorageError(err, 'PostgreSQL read failed')
    }
    const out = new Map<string, StoredRecord>()
    for (const row of rows) out.set(row.name, toStored(row))
    return out
  }

  /**
   * One transaction per batch. A name may appear several times (in call order): each round
   * holds at most one write per name and sees the rounds before it.
   */
  private async commitBatch(batch: readonly StoreWrite[]): Promise<WriteResult[]> {
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (err) {
      throw toStorageError(err, 'cannot reach PostgreSQL')
    }
    const plan = rounds(batch)
    const multi = plan.length > 1
    try {
      const ok = new Set<number>()
      if (multi) await client.query('BEGIN')
      for (const round of plan) {
        const res = await client.query<{ i: number }>(batchStatement(this.table), batchParams(batch, round))
        for (const row of res.rows) ok.add(row.i)
      }
      const failed = batch.filter((_, i) => !ok.has(i)).map((w) => w.name)
      const current = failed.length > 0 ? await this.currentIn(client, failed) : new Map<string, StoredRecord>()
      if (multi) await client.query('COMMIT')
      client.release()
      return batch.map((w, i) =>
        ok.has(i) ? { ok: true, version: w.newVersion } : { ok: false, current: current.get(w.name) ?? null },
      )
    } catch (err) {
      // A connection that cannot even roll back is broken: destroy it instead of pooling it.
      const rolledBack = multi
        ? await client.query('ROLLBACK').then(
            () => true,
            () => false,
          )
        : true
      client.release(rolledBack ? undefined : true)
      throw toStorageError(err, 'PostgreSQL commit failed')
    }
  }

  private async currentIn(client: pg.PoolClient, names: string[]): Promise<Map<string, StoredRecord>> {
    const res = await client.query<Row>(`SELECT name, version, data FROM ${this.table} WHERE name = ANY($1::text[])`, [
      names,
    ])
    return new Map(res.rows.map((r) => [r.name, toStored(r)]))
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', 'the record store is closed')
  }
}

function batchParams(batch: readonly StoreWrite[], round: readonly number[]): unknown[] {
  const idx: number[] = []
  const names: string[] = []
  const expected: number[] = []
  const next: number[] = []
  const data: (string | null)[] = []
  for (const i of round) {
    const w = batch[i] as StoreWrite
    idx.push(i)
    names.push(w.name)
    expected.push(w.expectedVersion)
    next.push(w.newVersion)
    data.push(w.data === undefined ? null : (w.data as string))
  }
  return [idx, names, expected, next, data]
}

function toStored(row: Row): StoredRecord {
  return { version: Number(row.version), data: row.data === null ? undefined : row.data }
}

/**
 * `CREATE TABLE IF NOT EXISTS` is not safe when several nodes start at once (the losers fail
 * with duplicate-type or duplicate-key errors), so creation is serialised across nodes by a
 * transaction-scoped advisory lock keyed on the table name.
 */
async function createTable(pool: pg.Pool, table: string): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchboard:create:${table}`])
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${table} (name text PRIMARY KEY, version bigint NOT NULL, data jsonb)`,
    )
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}
