import { performance } from 'node:perf_hooks'
import { SharedBatch } from './shared-batch.js'

export interface Flushable {
  /** `now`: the time of this flush turn, read once for every session flushed in it. */
  flush(now: number): void
}

/** The longest a flush holds the event loop before it yields a turn (ms of wall time). */
export const FLUSH_SLICE_MS = 2
/** Sessions flushed between two looks at the clock. */
const CHECK_EVERY = 32

/**
 * Coalesces outbound work: sessions that got frames during this turn of the event loop are
 * flushed once, right after the I/O callbacks of this turn (setImmediate). Several publications
 * queued for one connection leave as one batch frame; at low load a frame waits only until the
 * end of the current turn, so no latency is added.
 *
 * A flush gives the event loop back every `sliceMs` and goes on in the next turn. Node (libuv
 * ≥ 1.45) accepts one new connection per turn of the loop, so a node whose turns are long
 * fan-outs admits a few dozen connections a second, whatever its admission limit: the clients of
 * a draining node waited seconds in the listen queue of the nodes they moved to (bench
 * rolling-deploy). Short turns keep it accepting (and reading) while it fans out.
 */
export class FlushScheduler {
  // Two lists used in turn, kept at their size: a fan-out to N sessions does not regrow an
  // array from empty every turn. A flush may schedule again (into the other list).
  private dirty: (Flushable | undefined)[] = []
  private spare: (Flushable | undefined)[] = []
  private count = 0
  /** Sessions flushed in one turn share the batch frames they have in common (a fan-out). */
  readonly batches = new SharedBatch()
  /** The batch being flushed, possibly over several turns, and how far it got. */
  private batch: (Flushable | undefined)[] = []
  private batchCount = 0
  private cursor = 0
  private scheduled = false

  /** `now`: the server's clock, read once per turn for every session flushed in it. */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly sliceMs: number = FLUSH_SLICE_MS,
  ) {}

  schedule(target: Flushable): void {
    this.dirty[this.count++] = target
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.run)
    }
  }

  private readonly run = (): void => {
    this.scheduled = false
    if (this.cursor === this.batchCount) this.takeDirty()
    const now = this.now()
    const deadline = performance.now() + this.sliceMs
    const batch = this.batch
    while (this.cursor < this.batchCount) {
      const i = this.cursor++
      const target = batch[i] as Flushable
      batch[i] = undefined // no reference kept to a session that may close
      target.flush(now)
      // The rest of the batch (sessions scheduled before the ones in `dirty`) goes first next turn.
      if (this.cursor % CHECK_EVERY === 0 && this.cursor < this.batchCount && performance.now() > deadline) break
    }
    if (this.cursor < this.batchCount || this.count > 0) {
      this.scheduled = true
      setImmediate(this.run)
    }
    this.batches.clear()
  }

  /** The sessions scheduled so far become the batch; the emptied batch list takes new ones. */
  private takeDirty(): void {
    this.batch = this.dirty
    this.batchCount = this.count
    this.cursor = 0
    this.dirty = this.spare
    this.spare = this.batch
    this.count = 0
  }
}
