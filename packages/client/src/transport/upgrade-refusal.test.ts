import { describe, expect, it } from 'vitest'
import { MAX_RETRY_AFTER_MS, parseRetryAfter, upgradeRefusal } from './upgrade-refusal.js'

describe('a refused upgrade', () => {
  const now = Date.parse('2025-01-01T00:00:00Z')

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter(['2', '9'], now)).toBe(2000)
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000)
  })

  it('ignores what it cannot read and bounds what it can', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-5', now)).toBeUndefined()
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('999999', now)).toBe(MAX_RETRY_AFTER_MS)
  })

  it('keeps the status and the hint', () => {
    expect(upgradeRefusal({ statusCode: 429, headers: { 'retry-after': '1' } }, now)).toEqual({
      status: 429,
      retryAfterMs: 1000,
    })
    expect(upgradeRefusal({ statusCode: 503, headers: {} }, now)).toEqual({ status: 503 })
  })
})
