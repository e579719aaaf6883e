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
    if (this.tokens < 1) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000)
      this.last = now
      if (this.tokens < 1) return false
    }
    this.tokens -= 1
    return true
  }
}
