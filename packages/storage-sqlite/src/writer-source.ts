/**
 * The writer thread's code, as a string: it runs in a `worker_threads` Worker with `eval`, so
 * it works the same from the TypeScript sources (tests) and from the build. It owns the write
 * connection: every batch is one IMMEDIATE transaction, and with `synchronous=FULL` the fsync
 * of each commit happens here, never on the server's event loop.
 *
 * Messages in: `{ id, batch: [name, text | null, expectedVersion, newVersion][] }` or
 * `{ close: true }`. Out: `{ id, results: ([1, version] | [0, version, text | null] | [0])[] }`
 * (ok; conflict with the current row; conflict, no row) or `{ id, error }`.
 */
export const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const { path, table, synchronous } = workerData
const db = new Database(path)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = ' + synchronous)
db.pragma('busy_timeout = 5000')
const select = db.prepare('SELECT version, data FROM "' + table + '" WHERE name = ?')
const insert = db.prepare('INSERT INTO "' + table + '" (name, version, data) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING')
const update = db.prepare('UPDATE "' + table + '" SET version = ?, data = ? WHERE name = ? AND version = ?')
const apply = ([name, text, expected, next]) => {
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
`
