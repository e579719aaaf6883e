import { describe, expect, it } from 'vitest'
import { Backoff } from './backoff.js'

describe('backoff with full jitter', () => {
  it('grows exponentially up to the cap, uniformly below the ceiling', () => {
    const top = new Backoff(100, 1000, () => 0.999999)
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([99, 199, 399, 799, 999, 999])
    const bottom = new Backoff(100, 1000, () => 0)
    expect(bottom.next()).toBe(0)
  })

  it('reset starts over', () => {
    const b = new Backoff(100, 10_000, () => 0.5)
    b.next()
    b.next()
    b.reset()
    expect(b.next()).toBe(50)
    expect(b.attempts).toBe(1)
  })

  it('never overflows after many attempts', () => {
    const b = new Backoff(100, 5000, () => 0.5)
    for (let i = 0; i < 2000; i++) expect(b.next()).toBeLessThanOrEqual(5000)
  })
})
