// Switchboard for the record scenarios, with persistence ON: `sqlite` (a fresh database file in a
// temp directory, the zero-config default store) or `postgres` (a fresh schema on the local
// PostgreSQL, PGHOST/PGUSER/PGDATABASE or 127.0.0.1 / postgres / test). Both are removed on close.
// `memory` (no persistence) is there to show what persistence costs; no target uses it.
// A second argument loads another build of the server (`--base`).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { randomBytes } from 'node:crypto'
import { runServer } from '../../servers/common.mjs'

const kind = process.argv[2] ?? 'sqlite'
// Another build of @switchboard/server (its dist/index.js, `--base`): before/after in one run.
const serverModule = process.argv[3] ? pathToFileURL(resolve(process.argv[3])).href : '@switchboard/server'

function postgresUrl(searchPath) {
  const host = process.env.PGHOST ?? '127.0.0.1'
  const port = process.env.PGPORT ?? '5432'
  const user = process.env.PGUSER ?? 'postgres'
  const db = process.env.PGDATABASE ?? 'test'
  const base = `postgres://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(db)}`
  return searchPath ? `${base}?options=${encodeURIComponent(`-c search_path=${searchPath}`)}` : base
}

async function admin(sql) {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: postgresUrl(), connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

runServer(`records-switchboard-${kind}`, async () => {
  const { createServer } = await import(serverModule)
  let storage
  let cleanup = async () => {}
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sb-bench-records-'))
    storage = { type: 'sqlite', path: join(dir, 'records.db') }
    cleanup = async () => rmSync(dir, { recursive: true, force: true })
  } else if (kind === 'memory') {
    storage = { type: 'memory' }
  } else if (kind === 'postgres') {
    const schema = `sb_bench_${randomBytes(5).toString('hex')}`
    await admin(`CREATE SCHEMA "${schema}"`)
    storage = { type: 'postgres', url: postgresUrl(schema) }
    cleanup = () => admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } else {
    throw new Error(`unknown storage ${kind} (sqlite, postgres or memory)`)
  }
  const server = createServer({
    server: { host: '127.0.0.1', port: 0 },
    storage,
    log: { level: 'silent' },
    // All load comes from 127.0.0.1, and the writers of the throughput scenario pipeline their
    // writes: limits are not what is being measured.
    limits: { messagesPerSecond: 1_000_000, maxConnectionsPerIp: 1_000_000, connectsPerSecond: 0 },
  })
  try {
    const { port } = await server.listen()
    return {
      port,
      info: { storage: kind },
      close: async () => {
        await server.close()
        await cleanup()
      },
    }
  } catch (err) {
    await cleanup()
    throw err
  }
})
