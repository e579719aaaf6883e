/**
 * Coalesces outbound work: sessions that got frames during this turn of the event loop are
 * flushed once, right after the I/O callbacks of this turn (setImmediate). Several publications
 * queued for one connection leave as one batch frame; at low load a frame waits only until the
 * end of the current turn, so no latency is added.
 */
export interface Flushable {
  /** `now`: the time of this flush turn, read once for every session flushed in it. */
  flush(now: number): void
}

export class FlushScheduler {
  private dirty: Flushable[] = []
  private scheduled = false

  schedule(target: Flushable): void {
    this.dirty.push(target)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.run)
    }
  }

  private readonly run = (): void => {
    const batch = this.dirty
    this.dirty = []
    this.scheduled = false
    const now = Date.now()
    for (let i = 0; i < batch.length; i++) (batch[i] as Flushable).flush(now)
  }
}
