import { TokenBucket } from './token-bucket.js'

/** A refused connection is never told to wait longer than this. */
export const MAX_CONNECT_WAIT_MS = 30_000

/**
 * The node's admission rate (`limits.connectsPerSecond`): a token bucket for new connections
 * and their handshakes, whatever their address, holding at most one second's worth. A refused
 * connection is told when to come back: its own place in a virtual queue behind the ones
 * refused before it, at the same rate, so a refused crowd comes back as a trickle the bucket
 * can take instead of in waves.
 */
export class ConnectRate {
  private readonly bucket: TokenBucket | undefined
  /** When the last refused connection was told to come back. */
  private horizon = 0

  /** `perSecond` 0 = unlimited. */
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.bucket = perSecond > 0 ? new TokenBucket(perSecond, Math.max(1, perSecond), now()) : undefined
  }

  /** Takes a token: 0 when the connection may go ahead, else how long (ms) it should wait before trying again. */
  take(): number {
    if (!this.bucket) return 0
    const now = this.now()
    if (this.bucket.take(now)) return 0
    this.horizon = Math.min(Math.max(this.horizon, now) + 1000 / this.perSecond, now + MAX_CONNECT_WAIT_MS)
    return Math.max(1, Math.ceil(this.horizon - now))
  }
}
