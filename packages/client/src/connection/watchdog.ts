/**
 * The server pings an idle connection, so silence longer than its heartbeat timeout means it
 * is gone (a half-open TCP connection never reports a close on its own).
 */
export class SilenceWatchdog {
  private timer: ReturnType<typeof setInterval> | undefined
  private lastHeardAt = Date.now()

  constructor(private readonly onSilent: () => void) {}

  /** Starts watching; `timeoutMs` is the server's `hb.timeout`. */
  start(timeoutMs: number): void {
    this.stop()
    this.lastHeardAt = Date.now()
    const every = Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4)))
    this.timer = setInterval(() => {
      if (Date.now() - this.lastHeardAt > timeoutMs) {
        this.stop()
        this.onSilent()
      }
    }, every)
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  /** Any frame from the server counts. */
  heard(): void {
    this.lastHeardAt = Date.now()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}
