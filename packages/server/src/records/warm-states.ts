import type { RecordState } from './write-plan.js'

/**
 * Recently written records nobody subscribes to: their last known state, so a burst of writes
 * to such a record does not read it back from storage every time. Bounded by count and by
 * (estimated) bytes, least recently used first out. The states may be stale when other nodes
 * write the same records: writes use them only as the base of a compare-and-set (a stale base
 * fails and is reloaded), and reads always reload.
 */
export class WarmStates {
  private readonly states = new Map<string, RecordState>()
  private bytes = 0

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  put(name: string, state: RecordState): void {
    this.take(name)
    if (state.bytes > this.maxBytes / 4) return
    this.states.set(name, state)
    this.bytes += state.bytes
    for (const [oldest, s] of this.states) {
      if (this.states.size <= this.maxEntries && this.bytes <= this.maxBytes) break
      this.states.delete(oldest)
      this.bytes -= s.bytes
    }
  }

  /** Removes and returns the state for `name`, if kept. */
  take(name: string): RecordState | undefined {
    const state = this.states.get(name)
    if (state === undefined) return undefined
    this.states.delete(name)
    this.bytes -= state.bytes
    return state
  }
}
