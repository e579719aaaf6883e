import type { Clock, ClockTimer } from '@switchboard/server'

interface Timer {
  at: number
  /** The delay it was set with. */
  ms: number
  seq: number
  fn: () => void
}

/**
 * A clock that moves only when the test says so: `advance(ms)` runs, in time order, every timer
 * that falls due by then (including timers those timers set). Starts at the real time so that
 * timestamps look ordinary.
 */
export class ManualClock implements Clock {
  private current = Date.now()
  private seq = 0
  private readonly timers = new Set<Timer>()

  now(): number {
    return this.current
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer: Timer = { at: this.current + Math.max(0, ms), ms, seq: ++this.seq, fn }
    this.timers.add(timer)
    return timer
  }

  clearTimeout(timer: ClockTimer): void {
    this.timers.delete(timer as Timer)
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.size
  }

  /** True when a timer set with exactly `ms` is waiting. */
  hasTimer(ms: number): boolean {
    for (const t of this.timers) if (t.ms === ms) return true
    return false
  }

  /** The delay until the next timer, or undefined when none is set. */
  nextIn(): number | undefined {
    let next: Timer | undefined
    for (const t of this.timers) if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t
    return next ? next.at - this.current : undefined
  }

  advance(ms: number): void {
    const until = this.current + ms
    for (;;) {
      let next: Timer | undefined
      for (const t of this.timers) {
        if (t.at <= until && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t
      }
      if (!next) break
      this.timers.delete(next)
      this.current = next.at
      next.fn()
    }
    this.current = until
  }
}
