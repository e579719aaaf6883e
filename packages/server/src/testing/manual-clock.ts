import type { Clock } from '../clock.js'

const MAX_CALLS_PER_INSTANT = 10_000

interface Scheduled {
  at: number
  /** The delay it was scheduled with. */
  ms: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/**
 * A clock that moves only when told to, for tests: `advance(ms)` runs every scheduled call that
 * falls due, in time order (ties in scheduling order), each with `now()` at its own due time —
 * so a test sees exactly what a real clock would do over that stretch, without waiting.
 */
export class ManualClock implements Clock {
  private current: number
  private seq = 0
  private queue: Scheduled[] = []

  /** `start`: the initial time; wall-clock time by default, so epoch-based expiries still make sense. */
  constructor(start: number = Date.now()) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  schedule(ms: number, fn: () => void): () => void {
    const entry: Scheduled = { at: this.current + Math.max(0, ms), ms, seq: ++this.seq, fn, cancelled: false }
    this.queue.push(entry)
    return () => {
      entry.cancelled = true
    }
  }

  /** Moves time forward by `ms`, running what falls due on the way (also calls scheduled meanwhile). */
  advance(ms: number): void {
    const end = this.current + ms
    let sameInstant = 0
    for (let next = this.takeDue(end); next; next = this.takeDue(end)) {
      sameInstant = next.at === this.current ? sameInstant + 1 : 0
      // Code that keeps re-scheduling itself without delay would never let time move on.
      if (sameInstant > MAX_CALLS_PER_INSTANT) throw new Error(`more than ${MAX_CALLS_PER_INSTANT} calls at ${next.at}`)
      this.current = next.at
      next.fn()
    }
    this.current = end
  }

  /** Calls scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.queue.filter((e) => !e.cancelled).length
  }

  /** True when a call scheduled with exactly `ms` is waiting. */
  hasTimer(ms: number): boolean {
    return this.queue.some((e) => !e.cancelled && e.ms === ms)
  }

  /** The delays (as scheduled) of the calls waiting, in scheduling order. */
  delays(): number[] {
    return this.queue.filter((e) => !e.cancelled).map((e) => e.ms)
  }

  /** The delay until the next scheduled call, or undefined when none waits. */
  nextIn(): number | undefined {
    let next: Scheduled | undefined
    for (const e of this.queue) {
      if (!e.cancelled && (!next || e.at < next.at || (e.at === next.at && e.seq < next.seq))) next = e
    }
    return next ? next.at - this.current : undefined
  }

  private takeDue(end: number): Scheduled | undefined {
    this.queue = this.queue.filter((e) => !e.cancelled)
    let first: Scheduled | undefined
    for (const e of this.queue) {
      if (e.at <= end && (!first || e.at < first.at || (e.at === first.at && e.seq < first.seq))) first = e
    }
    if (first) this.queue.splice(this.queue.indexOf(first), 1)
    return first
  }
}
