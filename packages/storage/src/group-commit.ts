import { StorageError, toStorageError } from './errors.js'
import type { StoreWrite, WriteResult } from './record-store.js'

/**
 * Commits one batch in one transaction and returns a result per write, in order. A write's
 * compare-and-set sees the writes before it in the same batch. Throwing fails the whole batch
 * (nothing of it may be committed).
 */
export type BatchCommit = (batch: readonly StoreWrite[]) => Promise<WriteResult[]> | WriteResult[]

interface Entry {
  write: StoreWrite
  resolve(result: WriteResult): void
  reject(error: StorageError): void
}

/**
 * Group commit for stores: writes submitted during one turn of the event loop go into one
 * transaction, committed after that turn (setImmediate). One batch is in flight at a time;
 * writes arriving meanwhile form the next batch. Each promise resolves only after the
 * transaction holding its write committed, so "acknowledged means committed" holds while
 * a busy server pays one commit (and one fsync) for many writes.
 */
export class GroupCommit {
  private queue: Entry[] = []
  private running = false
  private scheduled = false
  private closed = false
  private idleWaiters: (() => void)[] = []

  constructor(
    private readonly commit: BatchCommit,
    private readonly maxBatch = 1000,
  ) {}

  submit(write: StoreWrite): Promise<WriteResult> {
    if (this.closed) return Promise.reject(new StorageError('CLOSED', 'the record store is closed'))
    return new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ write, resolve, reject })
      this.schedule()
    })
  }

  /** Refuses new writes and resolves once every accepted write has settled. */
  close(): Promise<void> {
    this.closed = true
    if (!this.running && this.queue.length === 0) return Promise.resolve()
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  private schedule(): void {
    if (this.running || this.scheduled) return
    this.scheduled = true
    setImmediate(this.flush)
  }

  private readonly flush = async (): Promise<void> => {
    this.scheduled = false
    const entries = this.queue.splice(0, this.maxBatch)
    if (entries.length === 0) return this.settleIdle()
    this.running = true
    try {
      const results = await this.commit(entries.map((e) => e.write))
      for (let i = 0; i < entries.length; i++) (entries[i] as Entry).resolve(results[i] as WriteResult)
    } catch (err) {
      const error = toStorageError(err, 'commit failed')
      for (const e of entries) e.reject(error)
    }
    this.running = false
    // Writes that arrived during the commit wait for the next turn, so they batch up too.
    if (this.queue.length > 0) this.schedule()
    else this.settleIdle()
  }

  private settleIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
