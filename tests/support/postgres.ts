import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * The PostgreSQL the tests use: the real server on this machine (PGHOST/PGPORT/PGUSER/PGDATABASE,
 * defaulting to 127.0.0.1:5432, user postgres, database test, trust auth). Tests that need it
 * fail when it is unreachable; they never skip.
 */
export function postgresUrl(searchPath?: string): string {
  const host = process.env.PGHOST ?? '127.0.0.1'
  const port = process.env.PGPORT ?? '5432'
  const user = process.env.PGUSER ?? 'postgres'
  const database = process.env.PGDATABASE ?? 'test'
  const base = `postgres://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(database)}`
  return searchPath ? `${base}?options=${encodeURIComponent(`-c search_path=${searchPath}`)}` : base
}

export interface ScratchSchema {
  /** The schema's name: unique per call, so parallel runs never share tables. */
  name: string
  /** A connection URL whose unqualified tables live in this schema. */
  url: string
  drop(): Promise<void>
}

/** Creates a schema with a random name; `drop()` removes it and everything in it. */
export async function scratchSchema(prefix = 'sb_test'): Promise<ScratchSchema> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  await admin(`CREATE SCHEMA "${name}"`)
  return { name, url: postgresUrl(name), drop: () => admin(`DROP SCHEMA IF EXISTS "${name}" CASCADE`) }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl(), connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${postgresUrl()} (${(err as Error).message}); these tests need it`)
  }
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
