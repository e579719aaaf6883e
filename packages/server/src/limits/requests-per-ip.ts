import { TokenBucket } from './token-bucket.js'
import { addressKey } from './connections-per-ip.js'

interface Entry {
  bucket: TokenBucket
  seen: number
}

/**
 * A token bucket per client address for HTTP API requests (a connection has its own bucket;
 * a request has only its address). Addresses are keyed like ConnectionsPerIp (IPv6 per /64).
 * The table is bounded: past `maxAddresses`, buckets idle long enough to have refilled are
 * dropped (forgetting them changes nothing), and if that is not enough, all are.
 */
export class RequestsPerIp {
  private readonly entries = new Map<string, Entry>()
  private readonly refillMs: number

  /** `rate` 0 = unlimited. */
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxAddresses = 100_000,
  ) {
    this.refillMs = rate > 0 ? Math.ceil((burst / rate) * 1000) : 0
  }

  /** Takes one request's token for the address; false when it is over its rate. */
  take(address: string, now = Date.now()): boolean {
    if (this.rate <= 0) return true
    const key = addressKey(address)
    let entry = this.entries.get(key)
    if (!entry) {
      if (this.entries.size >= this.maxAddresses) this.evict(now)
      entry = { bucket: new TokenBucket(this.rate, this.burst, now), seen: now }
      this.entries.set(key, entry)
    }
    entry.seen = now
    return entry.bucket.take(now)
  }

  get size(): number {
    return this.entries.size
  }

  private evict(now: number): void {
    for (const [key, e] of this.entries) if (now - e.seen >= this.refillMs) this.entries.delete(key)
    if (this.entries.size >= this.maxAddresses) this.entries.clear()
  }
}
