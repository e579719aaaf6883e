import type { Clock } from '../../clock.js'

/** A session holding a poll: told when the hold is over. */
export interface PollHolder {
  holdOver(): void
}

/**
 * The 25 s hold of every held poll of a server, on one timer instead of one per poll (a busy
 * long-polling server starts and cancels tens of thousands of holds a second). Every hold is as
 * long, so the map's insertion order is expiry order: the sweep answers from the front and
 * sleeps until the next one is due.
 */
export class HeldPolls {
  /** Holder → when its poll started to be held, in that order. */
  private readonly held = new Map<PollHolder, number>()
  private cancelSweep: (() => void) | undefined

  constructor(
    private readonly clock: Clock,
    private readonly holdMs: number,
  ) {}

  /** Starts (or restarts) `holder`'s hold. */
  hold(holder: PollHolder): void {
    this.held.delete(holder)
    this.held.set(holder, this.clock.now())
    this.cancelSweep ??= this.clock.schedule(this.holdMs, this.sweep)
  }

  /** `holder`'s poll was answered or went away. */
  release(holder: PollHolder): void {
    if (!this.held.delete(holder) || this.held.size > 0) return
    this.cancelSweep?.()
    this.cancelSweep = undefined
  }

  private readonly sweep = (): void => {
    this.cancelSweep = undefined
    const now = this.clock.now()
    for (const [holder, since] of this.held) {
      const due = since + this.holdMs
      if (due > now) {
        this.cancelSweep ??= this.clock.schedule(due - now, this.sweep)
        return
      }
      this.held.delete(holder)
      holder.holdOver()
    }
  }
}
