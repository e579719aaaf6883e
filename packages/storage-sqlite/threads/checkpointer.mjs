// Copies the write-ahead log back into the database file every `intervalMs`, in a worker thread
// of its own (see src/checkpointer.ts). PASSIVE: never waits for, nor blocks, the connection that
// commits. Any message stops it.
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const db = new Database(workerData.path)
db.pragma('busy_timeout = 5000')
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // A checkpoint that could not run now runs on the next tick, or at close.
  }
}, workerData.intervalMs)

parentPort.on('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
