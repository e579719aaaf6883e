/**
 * The server's time source. What decides by elapsed time — heartbeats, handshake timeouts and
 * token expiry (the session registry's sweep), RPC deadlines — reads `now()` and waits through
 * `schedule()`, never `Date.now`/`setTimeout` directly, so a test can drive time with a
 * `ManualClock` (`@switchboard/server/contract`) instead of sleeping. Pass one as
 * `ServerOptions.clock`; the default is `systemClock`.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /**
   * Calls `fn` once, `ms` from now. The returned function cancels the call (harmless once it
   * ran). A scheduled call never keeps the process alive.
   */
  schedule(ms: number, fn: () => void): () => void
}

/** Wall-clock time and unref'd timers. */
export const systemClock: Clock = {
  now: Date.now,
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms)
    timer.unref()
    return () => clearTimeout(timer)
  },
}
