import { describe, expect, it } from 'vitest'
import { RequestsPerIp } from './requests-per-ip.js'

describe('RequestsPerIp', () => {
  it('lets each address burst, then holds it to its rate; other addresses are unaffected', () => {
    const limit = new RequestsPerIp(10, 3)
    const t = 1_000_000
    expect([1, 2, 3, 4].map(() => limit.take('10.0.0.1', t))).toEqual([true, true, true, false])
    expect(limit.take('10.0.0.2', t)).toBe(true)
    expect(limit.take('10.0.0.1', t + 50)).toBe(false) // half a token
    expect(limit.take('10.0.0.1', t + 100)).toBe(true) // one token after 100 ms at 10/s
    expect(limit.take('::ffff:10.0.0.1', t + 100)).toBe(false) // the same address, IPv4-mapped
  })

  it('keeps its table bounded, forgetting only addresses that had refilled', () => {
    const limit = new RequestsPerIp(10, 2, 3)
    const t = 1_000_000
    limit.take('a', t)
    limit.take('a', t) // empty now
    limit.take('b', t)
    limit.take('c', t + 1000)
    limit.take('d', t + 1000) // table full: b (idle 1 s, refilled after 200 ms) and a go
    expect(limit.size).toBe(2) // c and d
    expect([limit.take('a', t + 1000), limit.take('a', t + 1000)]).toEqual([true, true]) // a fresh bucket
    expect(limit.take('c', t + 1000)).toBe(true)
  })

  it('is off with rate 0', () => {
    const limit = new RequestsPerIp(0, 0)
    for (let i = 0; i < 100; i++) expect(limit.take('x')).toBe(true)
    expect(limit.size).toBe(0)
  })
})
