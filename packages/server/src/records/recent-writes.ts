import type { SwitchboardError } from '../errors.js'

/** How a write with a client write id went: committed at a version, or failed. */
export type WriteOutcome = { ok: true; version: number } | { ok: false; error: SwitchboardError }

interface Entry {
  at: number
  version?: number
  /** Resends that arrived while the original was still being committed. */
  waiters?: ((outcome: WriteOutcome) => void)[]
}

/**
 * Remembers recent client write ids, so a write resent after a reconnect (its ack was lost
 * with the connection) is applied once: a resend of a committed write gets the original's
 * version back, a resend of one still in progress waits for it. Bounded by count and age;
 * node-local; in a cluster the engine's `CommittedWrites` answers for writes other nodes committed.
 */
export class RecentWrites {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly maxEntries = 100_000,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Registers a write id. Returns true when this is the first time (the caller performs the
   * write and reports with `settle`); otherwise `duplicate` receives the original's outcome.
   */
  begin(key: string, duplicate: (outcome: WriteOutcome) => void): boolean {
    const entry = this.entries.get(key)
    if (!entry) {
      this.evict()
      this.entries.set(key, { at: this.now() })
      return true
    }
    if (entry.version !== undefined) duplicate({ ok: true, version: entry.version })
    else (entry.waiters ??= []).push(duplicate)
    return false
  }

  settle(key: string, outcome: WriteOutcome): void {
    const entry = this.entries.get(key)
    if (!entry) return
    // A failed write was not applied: a later resend may try again.
    if (outcome.ok) entry.version = outcome.version
    else this.entries.delete(key)
    const waiters = entry.waiters
    entry.waiters = undefined
    if (waiters) for (const w of waiters) w(outcome)
  }

  /** The version a write id committed at, if it did (and is still remembered). */
  committedVersion(key: string): number | undefined {
    return this.entries.get(key)?.version
  }

  private evict(): void {
    const oldest = this.now() - this.ttlMs
    for (const [key, entry] of this.entries) {
      // Writes still in flight stay (their resends wait on them); there are few of those.
      if (entry.version === undefined) continue
      if (this.entries.size < this.maxEntries && entry.at > oldest) break
      this.entries.delete(key)
    }
  }
}

/** Write ids are scoped to the user who sent them. */
export function writeKey(userId: string | null | undefined, writeId: string): string {
  return `${userId ?? ''}\n${writeId}`
}
