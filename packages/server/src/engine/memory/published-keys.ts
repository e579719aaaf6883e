import type { StreamPosition } from '@switchboard/protocol'

interface Entry {
  until: number
  position: StreamPosition
}

/** Keys remembered at most, whatever their window: bounds the memory a flood of publishes can take. */
export const MAX_PUBLISHED_KEYS = 250_000

/**
 * The memory broker's idempotency table: which keys each channel published, and where, for the
 * key's window. Kept in insertion order, so expired entries are dropped from the front as new
 * ones come in; past MAX_PUBLISHED_KEYS the oldest go first (then the window is shorter than
 * asked for: at 2,000 publishes with keys a second, two minutes).
 */
export class PublishedKeys {
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly maxEntries = MAX_PUBLISHED_KEYS) {}

  /** Where `key` was published on `channel`, if within its window. */
  find(channel: string, key: string, now: number): StreamPosition | undefined {
    const entry = this.entries.get(entryKey(channel, key))
    return entry && entry.until > now ? entry.position : undefined
  }

  remember(channel: string, key: string, windowMs: number, position: StreamPosition, now: number): void {
    this.evict(now)
    const k = entryKey(channel, key)
    this.entries.delete(k) // re-inserted at the end: insertion order stays expiry order
    this.entries.set(k, { until: now + windowMs, position })
  }

  get size(): number {
    return this.entries.size
  }

  private evict(now: number): void {
    for (const [k, entry] of this.entries) {
      if (entry.until > now && this.entries.size < this.maxEntries) break
      this.entries.delete(k)
    }
  }
}

/** Channel names cannot contain a newline: the pair is unambiguous. */
function entryKey(channel: string, key: string): string {
  return `${channel}\n${key}`
}
