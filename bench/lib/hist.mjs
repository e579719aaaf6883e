// Fixed-memory latency histogram: 10 µs buckets up to 10 s (values above land in the last one).
const BUCKET_MS = 0.01
const BUCKETS = 1_000_000

export class Histogram {
  constructor() {
    this.counts = new Uint32Array(BUCKETS)
    this.reset()
  }
  reset() {
    this.counts.fill(0)
    this.n = 0
    this.sum = 0
    this.max = 0
    this.min = Infinity
  }
  add(ms) {
    if (!(ms >= 0)) ms = 0
    let i = Math.floor(ms / BUCKET_MS)
    if (i >= BUCKETS) i = BUCKETS - 1
    this.counts[i]++
    this.n++
    this.sum += ms
    if (ms > this.max) this.max = ms
    if (ms < this.min) this.min = ms
  }
  percentile(p) {
    if (this.n === 0) return null
    const target = Math.ceil((p / 100) * this.n)
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]
      if (seen >= target) return (i + 0.5) * BUCKET_MS
    }
    return this.max
  }
  summary() {
    if (this.n === 0) return { samples: 0 }
    return {
      samples: this.n,
      meanMs: this.sum / this.n,
      p50Ms: this.percentile(50),
      p90Ms: this.percentile(90),
      p99Ms: this.percentile(99),
      p999Ms: this.percentile(99.9),
      maxMs: this.max,
    }
  }
}
