import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { signHook, verifyHookSignature } from './signature.js'

describe('hook signatures', () => {
  const secret = 'a-shared-secret'
  const body = '{"events":[{"type":"occupied","name":"prices/AAPL"}]}'
  const at = 1_700_000_000_000

  it('is v1= and the hex HMAC-SHA256 of "timestamp.body"', () => {
    const expected = createHmac('sha256', secret).update(`${at}.${body}`).digest('hex')
    expect(signHook(secret, at, body)).toBe(`v1=${expected}`)
  })

  it('verifies a genuine request and refuses tampering, another secret, stale or missing headers', () => {
    const signature = signHook(secret, at, body)
    const ok = { secret, body, timestamp: String(at), signature, now: at + 1000 }
    expect(verifyHookSignature(ok)).toBe(true)
    expect(verifyHookSignature({ ...ok, body: body.replace('AAPL', 'MSFT') })).toBe(false)
    expect(verifyHookSignature({ ...ok, secret: 'another' })).toBe(false)
    expect(verifyHookSignature({ ...ok, timestamp: String(at + 1) })).toBe(false)
    expect(verifyHookSignature({ ...ok, now: at + 5 * 60_000 + 1 })).toBe(false) // a replay
    expect(verifyHookSignature({ ...ok, now: at + 10 * 60_000, toleranceMs: 11 * 60_000 })).toBe(true)
    expect(verifyHookSignature({ ...ok, signature: undefined })).toBe(false)
    expect(verifyHookSignature({ ...ok, timestamp: 'soon' })).toBe(false)
    expect(verifyHookSignature({ ...ok, signature: signature.slice(0, -1) })).toBe(false)
  })
})
