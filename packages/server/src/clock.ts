/** An opaque timer handle of a `Clock`. */
export type ClockTimer = unknown

/**
 * Time as the parts that wait see it (hook batching, retries and backoff, the occupancy grace
 * period). The server uses the system clock; tests pass a clock they advance by hand, so timing
 * is exercised without sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(fn: () => void, ms: number): ClockTimer
  clearTimeout(timer: ClockTimer): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms)
    // Pending hook retries or grace timers must not keep a process alive on their own.
    timer.unref?.()
    return timer
  },
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
}
