import { describe, expect, it } from 'vitest'
import { TokenBucket } from './token-bucket.js'

describe('token bucket', () => {
  it('allows the burst, then the rate', () => {
    const b = new TokenBucket(10, 5, 0)
    expect(Array.from({ length: 6 }, () => b.take(0))).toEqual([true, true, true, true, true, false])
    expect(b.take(50)).toBe(false) // half a token
    expect(b.take(100)).toBe(true) // one token after 100 ms at 10/s
    expect(b.take(100)).toBe(false)
  })

  it('never saves more than the burst', () => {
    const b = new TokenBucket(1000, 3, 0)
    for (let i = 0; i < 3; i++) b.take(0)
    const later = 1_000_000
    expect(Array.from({ length: 4 }, () => b.take(later))).toEqual([true, true, true, false])
  })

  it('credits no time spent full: after an idle spell one burst, then the rate', () => {
    const b = new TokenBucket(500, 500, 0)
    const later = 10_000
    const taken = Array.from({ length: 2000 }, () => b.take(later)).filter(Boolean).length
    expect(taken).toBe(500)
    expect(b.take(later + 2)).toBe(true) // one token per 2 ms at 500/s
    expect(b.take(later + 2)).toBe(false)
  })
})
