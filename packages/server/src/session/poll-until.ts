interface Wait {
  ready: () => boolean
  resolve: () => void
}

/**
 * Waits for conditions that have no event of their own, such as "this session's outbound
 * bytes fell below a level" (sockets only say when they are empty). Every pending wait is
 * checked on one shared timer: first right after the current I/O turn (when queued frames have
 * just been flushed), then every `everyMs` while any wait is pending. No timer runs otherwise.
 */
export class PollUntil {
  private waits: Wait[] = []
  private armed = false

  constructor(private readonly everyMs: number) {}

  /** Resolves once `ready()` returns true (at once if it already does). */
  until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.waits.push({ ready, resolve })
      if (!this.armed) {
        this.armed = true
        setImmediate(this.check)
      }
    })
  }

  private readonly check = (): void => {
    const waiting: Wait[] = []
    for (const w of this.waits) {
      if (w.ready()) w.resolve()
      else waiting.push(w)
    }
    this.waits = waiting
    if (waiting.length > 0) setTimeout(this.check, this.everyMs)
    else this.armed = false
  }
}
