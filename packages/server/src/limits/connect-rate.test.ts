import { describe, expect, it } from 'vitest'
import { ConnectRate, MAX_CONNECT_WAIT_MS } from './connect-rate.js'

describe('ConnectRate (limits.connectsPerSecond)', () => {
  it("admits a second's worth at once, then the rate", () => {
    let now = 0
    const rate = new ConnectRate(10, () => now)
    for (let i = 0; i < 10; i++) expect(rate.take()).toBe(0)
    expect(rate.take()).toBeGreaterThan(0)
    now += 100
    expect(rate.take()).toBe(0)
    expect(rate.take()).toBeGreaterThan(0)
  })

  it('tells a refused crowd to come back one after another, at the rate, bounded', () => {
    const now = 0
    const rate = new ConnectRate(100, () => now)
    for (let i = 0; i < 100; i++) rate.take()
    const waits = Array.from({ length: 5 }, () => rate.take())
    expect(waits).toEqual([10, 20, 30, 40, 50])
    for (let i = 0; i < 10_000; i++) rate.take()
    expect(rate.take()).toBe(MAX_CONNECT_WAIT_MS)
  })

  it('0 is unlimited', () => {
    const rate = new ConnectRate(0)
    for (let i = 0; i < 10_000; i++) expect(rate.take()).toBe(0)
  })
})
