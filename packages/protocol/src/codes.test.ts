import { describe, expect, it } from 'vitest'
import { closeCodeInfo, closeCodes, errorCodes, isErrorCode } from './codes.js'

describe('code catalogue', () => {
  it('every error code has an HTTP status and a retry policy', () => {
    for (const [code, info] of Object.entries(errorCodes)) {
      expect(info.http, code).toBeGreaterThanOrEqual(400)
      expect(typeof info.retryable, code).toBe('boolean')
      expect(info.description.length, code).toBeGreaterThan(5)
    }
    expect(isErrorCode('PERMISSION_DENIED')).toBe(true)
    expect(isErrorCode('toString')).toBe(false)
  })

  it('close code ranges carry the reconnect policy', () => {
    for (const [code, info] of Object.entries(closeCodes)) {
      const n = Number(code)
      if (n >= 4000 && n < 4500) expect(info.reconnect, code).toBe(true)
      if (n >= 4500) expect(info.reconnect, code).toBe(false)
    }
    expect(closeCodeInfo(4321).reconnect).toBe(true)
    expect(closeCodeInfo(4999).reconnect).toBe(false)
    expect(closeCodeInfo(4000).immediate).toBe(true)
  })
})
