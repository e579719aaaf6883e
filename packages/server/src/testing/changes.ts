/**
 * Waiting on a condition that only an event can make true, without polling: the code that
 * records events calls `notify()`, and `until` re-checks its condition then. Every wait is
 * bounded and names what it waited for when it gives up.
 */
export class Changes {
  private readonly waiters = new Set<() => void>()

  /** Something changed: waiting conditions are checked again. */
  notify(): void {
    for (const check of [...this.waiters]) check()
  }

  until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (condition()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      this.waiters.add(check)
    })
  }
}
