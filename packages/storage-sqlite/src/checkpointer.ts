import { Worker } from 'node:worker_threads'

/** The thread's program; `threads/` sits beside `src/` and `dist/`. */
const CHECKPOINTER = new URL('../threads/checkpointer.mjs', import.meta.url)

/**
 * Copies the write-ahead log back into the database file from a thread of its own, every
 * `intervalMs` (PASSIVE: never waits for, nor blocks, the connection that commits). With it,
 * commits on the event loop never pay for a checkpoint and its fsync.
 */
export class Checkpointer {
  private readonly worker: Worker

  constructor(path: string, intervalMs = 1000) {
    this.worker = new Worker(CHECKPOINTER, { workerData: { path, intervalMs }, execArgv: [] }) // no host flags: see writer-thread.ts
    this.worker.unref()
    // A checkpointer that dies only means the log is checkpointed at close instead.
    this.worker.on('error', () => {})
  }

  async close(): Promise<void> {
    if (this.worker.threadId < 0) return
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()))
    // Waiting for it to stop keeps the process alive (it is unreferenced while it runs).
    this.worker.ref()
    this.worker.postMessage('close')
    await exited
  }
}
