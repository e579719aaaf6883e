// Switchboard for the live-query scenarios: argv = storage (sqlite | postgres | memory),
// strategy (incremental | rerun: the naive baseline, every change re-runs each query in storage),
// records to seed. The collection `items` is seeded in-process before the server reports ready,
// with the query indexes declared in config. Storage is a fresh file / schema, removed on close.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { runServer } from '../../servers/common.mjs'
import { itemDoc, FIRST_LOAD_QUERY } from '../shapes.mjs'

const [kind = 'sqlite', strategy = 'incremental', recordsArg = '10000'] = process.argv.slice(2)
const records = Number(recordsArg)

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

runServer(`queries-switchboard-${kind}-${strategy}`, async () => {
  // SB_SERVER_MODULE: another build of @switchboard/server (its dist/index.js), for before/after runs.
  const { createServer } = await import(process.env.SB_SERVER_MODULE ?? '@switchboard/server')
  let storage
  let cleanup = async () => {}
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sb-bench-queries-'))
    storage = { type: 'sqlite', path: join(dir, 'records.db') }
    cleanup = async () => rmSync(dir, { recursive: true, force: true })
  } else if (kind === 'postgres') {
    const schema = `sb_bench_${randomBytes(5).toString('hex')}`
    await admin(`CREATE SCHEMA "${schema}"`)
    storage = { type: 'postgres', url: postgresUrl(schema) }
    cleanup = () => admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } else if (kind === 'memory') {
    storage = { type: 'memory' }
  } else {
    throw new Error(`unknown storage ${kind}`)
  }
  const server = createServer(
    {
      server: { host: '127.0.0.1', port: 0 },
      storage,
      log: { level: 'silent' },
      collections: {
        items: {
          indexes: [
            ['group', 'score'],
            ['group', 'status', 'score'],
            ['status', 'score'],
          ],
        },
      },
      limits: {
        messagesPerSecond: 1_000_000,
        maxConnectionsPerIp: 1_000_000,
        maxQueriesPerConnection: 10_000,
      },
    },
    { queryStrategy: strategy },
  )
  try {
    const { port } = await server.listen()
    const seedStart = performance.now()
    for (let i = 0; i < records; i += 5000) {
      const chunk = []
      for (let k = i; k < Math.min(records, i + 5000); k++) chunk.push(server.records.set(`items/${k}`, itemDoc(k)))
      await Promise.all(chunk)
    }
    const seedMs = performance.now() - seedStart
    return {
      port,
      info: { storage: kind, strategy, records, seedMs },
      // The first-load query run in-process (storage + rule filtering + rows), without the network.
      stats: async () => {
        const times = []
        let rows = 0
        for (let i = 0; i < 25; i++) {
          const t = performance.now()
          rows = (await server.records.query('items', FIRST_LOAD_QUERY)).length
          times.push(performance.now() - t)
        }
        times.sort((a, b) => a - b)
        return { rows, p50Ms: times[12], maxMs: times[24], minMs: times[0] }
      },
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
