/**
 * Exponential backoff with full jitter: each delay is uniform in [0, min(max, min·2^attempt)],
 * which spreads a crowd of reconnecting clients instead of having them retry in waves.
 */
export class Backoff {
  private attempt = 0

  constructor(
    private readonly minDelayMs: number,
    private readonly maxDelayMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.min(this.attempt, 30))
    this.attempt++
    return Math.floor(this.random() * ceiling)
  }

  reset(): void {
    this.attempt = 0
  }

  get attempts(): number {
    return this.attempt
  }
}
