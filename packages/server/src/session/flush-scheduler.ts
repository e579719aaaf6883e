/**
 * Coalesces outbound work: sessions that got frames during this turn of the event loop are
 * flushed once, right after the I/O callbacks of this turn (setImmediate). Several publications
 * queued for one connection leave as one batch frame; at low load a frame waits only until the
 * end of the current turn, so no latency is added.
 */
import { SharedBatch } from './shared-batch.js'

export interface Flushable {
  /** `now`: the time of this flush turn, read once for every session flushed in it. */
  flush(now: number): void
}

export class FlushScheduler {
  // Two lists used in turn, kept at their size: a fan-out to N sessions does not regrow an
  // array from empty every turn. A flush may schedule again (into the other list).
  private dirty: (Flushable | undefined)[] = []
  private spare: (Flushable | undefined)[] = []
  private count = 0
  /** Sessions flushed in one turn share the batch frames they have in common (a fan-out). */
  readonly batches = new SharedBatch()

  /** `now`: the server's clock, read once per turn for every session flushed in it. */
  constructor(private readonly now: () => number = Date.now) {}

  schedule(target: Flushable): void {
    if (this.count === 0) setImmediate(this.run)
    this.dirty[this.count++] = target
  }

  private readonly run = (): void => {
    const batch = this.dirty
    const count = this.count
    this.dirty = this.spare
    this.spare = batch
    this.count = 0
    const now = this.now()
    for (let i = 0; i < count; i++) {
      const target = batch[i] as Flushable
      batch[i] = undefined // no reference kept to a session that may close
      target.flush(now)
    }
    this.batches.clear()
  }
}
