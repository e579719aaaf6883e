interface Waiter<T> {
  resolve(value: T | undefined): void
  reject(error: unknown): void
}

/**
 * Coalesces single-name reads made in one turn of the event loop into one query. Reads run
 * concurrently with writes and with each other; each sees at least every write whose promise
 * had resolved before it was made.
 */
export class ReadBatcher<T> {
  private waiting = new Map<string, Waiter<T>[]>()
  private scheduled = false
  private inFlight = new Set<Promise<void>>()

  constructor(private readonly fetch: (names: readonly string[]) => Promise<Map<string, T>>) {}

  get(name: string): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      const list = this.waiting.get(name)
      if (list) list.push({ resolve, reject })
      else this.waiting.set(name, [{ resolve, reject }])
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(this.flush)
      }
    })
  }

  /** Resolves when no read is queued or running. */
  async idle(): Promise<void> {
    while (this.scheduled || this.inFlight.size > 0) {
      if (this.inFlight.size > 0) await Promise.all(this.inFlight)
      else await new Promise((r) => setImmediate(r))
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false
    const batch = this.waiting
    this.waiting = new Map()
    const run = this.fetch([...batch.keys()]).then(
      (found) => {
        for (const [name, list] of batch) for (const w of list) w.resolve(found.get(name))
      },
      (err: unknown) => {
        for (const list of batch.values()) for (const w of list) w.reject(err)
      },
    )
    const tracked = run.finally(() => this.inFlight.delete(tracked))
    this.inFlight.add(tracked)
  }
}
