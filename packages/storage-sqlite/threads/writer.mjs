// The SQLite write connection, in a worker thread of its own (see src/writer-thread.ts). Plain
// JavaScript beside the package's `src` and `dist`, so both load it by the same relative URL.
//
// Every batch is one IMMEDIATE transaction; with synchronous=FULL the fsync of each commit happens
// here, never on the server's event loop.
// In:  { id, batch: [name, text | null, expectedVersion, newVersion][] } or { close: true }.
// Out: { ready: true } once, then { id, results: ([1, version] | [0, version, text | null] | [0])[] }
//      (ok; conflict with the current row; conflict, no row) or { id, error }.
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const { path, table, synchronous } = workerData
const db = new Database(path)
db.pragma('journal_mode = WAL')
db.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`)
db.pragma('busy_timeout = 5000')
const select = db.prepare(`SELECT version, data FROM "${table}" WHERE name = ?`)
const insert = db.prepare(`INSERT INTO "${table}" (name, version, data) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`)
const update = db.prepare(`UPDATE "${table}" SET version = ?, data = ? WHERE name = ? AND version = ?`)

function apply([name, text, expected, next]) {
  const changed = expected === 0 ? insert.run(name, next, text).changes : update.run(next, text, name, expected).changes
  if (changed === 1) return [1, next]
  const row = select.get(name)
  return row ? [0, row.version, row.data] : [0]
}
const commit = db.transaction((batch) => batch.map(apply)).immediate

parentPort.on('message', (m) => {
  if (m.close) {
    db.close()
    parentPort.close()
    return
  }
  try {
    parentPort.postMessage({ id: m.id, results: commit(m.batch) })
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) })
  }
})
parentPort.postMessage({ ready: true })
