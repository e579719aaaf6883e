/** Token bucket: `rate` tokens per second, at most `burst` saved up. Allocation-free. */
export class TokenBucket {
  private tokens: number
  private last: number
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst
    this.last = now
  }

  take(now = Date.now()): boolean {
    // Refilled on every take, not only once empty: time that passes while the bucket is full must
    // not be credited later (refilling only when empty handed out a second burst after an idle spell).
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000)
      this.last = now
    }
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
