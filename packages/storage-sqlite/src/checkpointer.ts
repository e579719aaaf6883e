import type { Worker } from 'node:worker_threads'
import { startThread, stopThread } from './threads.js'

/**
 * Copies the write-ahead log back into the database file from a thread of its own, every
 * `intervalMs` (PASSIVE: never waits for, nor blocks, the connection that commits). With it,
 * commits on the event loop never pay for a checkpoint and its fsync.
 */
export class Checkpointer {
  private readonly worker: Worker

  constructor(path: string, intervalMs = 1000) {
    this.worker = startThread('checkpointer', { path, intervalMs })
    this.worker.unref()
    // A checkpointer that dies only means the log is checkpointed at close instead.
    this.worker.on('error', () => {})
  }

  async close(): Promise<void> {
    if (this.worker.threadId >= 0) await stopThread(this.worker, 'close')
  }
}
