import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { jwtExpiry, refreshLead, TokenRefresher } from './token-refresh.js'

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const jwt = (payload: unknown) => `${b64({ alg: 'HS256' })}.${b64(payload)}.sig`

describe('jwtExpiry', () => {
  it('reads exp in ms from the payload without verifying', () => {
    expect(jwtExpiry(jwt({ sub: 'a', exp: 1_700_000_000 }))).toBe(1_700_000_000_000)
    expect(jwtExpiry(jwt({ sub: 'ünïcødé', exp: 42 }))).toBe(42_000)
  })
  it('is undefined for tokens it cannot read', () => {
    for (const t of [
      'opaque',
      'a.b',
      jwt({ sub: 'a' }),
      jwt({ exp: 'soon' }),
      'a.!!!.c',
      `${b64({})}.${Buffer.from('{').toString('base64url')}.x`,
    ]) {
      expect(jwtExpiry(t)).toBeUndefined()
    }
  })
})

describe('refreshLead', () => {
  it('is a fifth of the remaining lifetime, between 1 s and 60 s', () => {
    expect(refreshLead(2_000)).toBe(1_000)
    expect(refreshLead(100_000)).toBe(20_000)
    expect(refreshLead(3_600_000)).toBe(60_000)
  })
})

describe('TokenRefresher', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }))
  afterEach(() => vi.useRealTimers())
  const exp = (secondsFromNow: number) => jwt({ exp: Math.floor(Date.now() / 1000) + secondsFromNow })

  it('refreshes before expiry, then plans the next refresh from the new token', async () => {
    const tokens = [exp(200), exp(400)]
    const sent: string[] = []
    const r = new TokenRefresher({
      fetchToken: async () => tokens.shift() as string,
      sendRefresh: async (t) => (sent.push(t), { id: 'a' }),
      onRefreshed: () => {},
      onError: (e) => {
        throw e
      },
    })
    r.start(exp(100)) // lead 20 s: refresh at 80 s
    await vi.advanceTimersByTimeAsync(79_000)
    expect(sent).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(sent).toHaveLength(1)
    r.stop()
  })

  it('does nothing for tokens without exp, and stop() cancels', async () => {
    const fetchToken = vi.fn(async () => exp(100))
    const r = new TokenRefresher({
      fetchToken,
      sendRefresh: async () => null,
      onRefreshed: () => {},
      onError: () => {},
    })
    r.start('opaque-token')
    await vi.advanceTimersByTimeAsync(1_000_000)
    r.start(exp(10))
    r.stop()
    await vi.advanceTimersByTimeAsync(1_000_000)
    expect(fetchToken).not.toHaveBeenCalled()
  })

  it('reports a failure and retries while the old token lives; refuses a token that does not expire later', async () => {
    const errors: string[] = []
    let calls = 0
    const old = exp(100)
    const r = new TokenRefresher({
      fetchToken: async () => (++calls === 1 ? Promise.reject(new Error('down')) : old),
      sendRefresh: async () => null,
      onRefreshed: () => {},
      onError: (e) => errors.push((e as Error).message),
    })
    r.start(old)
    await vi.advanceTimersByTimeAsync(80_000) // first try fails: retry at half the remaining 20 s
    expect(errors).toEqual(['down'])
    await vi.advanceTimersByTimeAsync(10_000) // second try returns the same token
    expect(errors[1]).toMatch(/expires no later/)
    r.stop()
  })
})
