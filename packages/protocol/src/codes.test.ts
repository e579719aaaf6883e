import { describe, expect, it } from 'vitest'
import {
  CloseCode,
  closeCodeInfo,
  closeCodes,
  errorCodeForUpgradeStatus,
  errorCodes,
  isErrorCode,
  upgradeStatusErrors,
} from './codes.js'
import { closeDescriptions, errorDescriptions } from './code-descriptions.js'

describe('code catalogue', () => {
  it('every error code has an HTTP status and a retry policy', () => {
    for (const [code, info] of Object.entries(errorCodes)) {
      expect(info.http, code).toBeGreaterThanOrEqual(400)
      expect(typeof info.retryable, code).toBe('boolean')
      expect(errorDescriptions[code as keyof typeof errorDescriptions].length, code).toBeGreaterThan(5)
    }
    expect(isErrorCode('PERMISSION_DENIED')).toBe(true)
    expect(isErrorCode('toString')).toBe(false)
  })

  it('close code ranges carry the reconnect policy', () => {
    for (const [code, info] of Object.entries(closeCodes)) {
      const n = Number(code)
      if (n >= 4000 && n < 4500) expect(info.reconnect, code).toBe(true)
      if (n >= 4500) expect(info.reconnect, code).toBe(false)
      expect(closeDescriptions[n as keyof typeof closeDescriptions].length, code).toBeGreaterThan(5)
    }
    expect(closeCodeInfo(4321).reconnect).toBe(true)
    expect(closeCodeInfo(4999).reconnect).toBe(false)
    expect(closeCodeInfo(4000).immediate).toBe(true)
  })
})

describe('what a client makes of a close or a refused upgrade', () => {
  it('a refusal by a connection limit asks the client to retry later, reporting TOO_MANY_CONNECTIONS', () => {
    const info = closeCodeInfo(CloseCode.CONNECTION_LIMIT)
    expect(info).toMatchObject({ reconnect: true, error: 'TOO_MANY_CONNECTIONS' })
    expect(info.immediate).toBeUndefined()
    expect(errorCodes.TOO_MANY_CONNECTIONS.retryable).toBe(true)
  })

  it('terminal closes name the error the client fails with', () => {
    expect(closeCodeInfo(CloseCode.AUTH_FAILED).error).toBe('AUTH_FAILED')
    expect(closeCodeInfo(CloseCode.UNSUPPORTED_VERSION).error).toBe('UNSUPPORTED_VERSION')
  })

  it('every upgrade status maps to the error code whose HTTP status it is', () => {
    for (const [status, code] of Object.entries(upgradeStatusErrors)) expect(errorCodes[code].http).toBe(Number(status))
    expect(errorCodeForUpgradeStatus(429)).toBe('RATE_LIMITED')
    expect(errorCodeForUpgradeStatus(503)).toBe('UNAVAILABLE')
    expect(errorCodeForUpgradeStatus(401)).toBe('AUTH_FAILED')
    expect(errorCodeForUpgradeStatus(502)).toBe('UNAVAILABLE') // a proxy whose upstream is down
  })
})
