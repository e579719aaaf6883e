import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 5000')
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {}
}, workerData.intervalMs)
parentPort.on('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
`

/**
 * Copies the write-ahead log back into the database file from a thread of its own, every
 * `intervalMs` (PASSIVE: never waits for, nor blocks, the connection that commits). With it,
 * commits on the event loop never pay for a checkpoint and its fsync.
 */
export class Checkpointer {
  private readonly worker: Worker

  constructor(path: string, intervalMs = 1000) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    this.worker = new Worker(SOURCE, { eval: true, workerData: { driver, path, intervalMs } })
    this.worker.unref()
    // A checkpointer that dies only means the log is checkpointed at close instead.
    this.worker.on('error', () => {})
  }

  async close(): Promise<void> {
    if (this.worker.threadId < 0) return
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()))
    this.worker.postMessage('close')
    await exited
  }
}
