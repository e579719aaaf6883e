import { createHmac } from 'node:crypto'
import { errors, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { HmacJwtFastPath } from './jwt-hmac.js'

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long'
const key = new TextEncoder().encode(SECRET)
const now = () => Math.floor(Date.now() / 1000)
const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256' }) =>
  new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key)
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const options = { clockTolerance: 5, requiredClaims: ['sub'], issuer: 'me' }

describe('HmacJwtFastPath', () => {
  const fast = new HmacJwtFastPath(SECRET, ['HS256', 'HS512'])

  it('returns the payload of a valid token', async () => {
    const token = await sign({ sub: 'u1', iss: 'me', role: 'x', exp: now() + 60 })
    expect(fast.verify(token, options)).toMatchObject({ sub: 'u1', role: 'x' })
    const token512 = await sign({ sub: 'u2', iss: 'me' }, { alg: 'HS512' })
    expect(fast.verify(token512, options)).toMatchObject({ sub: 'u2' })
  })

  it("checks the claims with jose's errors", async () => {
    const expired = await sign({ sub: 'u1', iss: 'me', exp: now() - 60 })
    expect(() => fast.verify(expired, options)).toThrow(errors.JWTExpired)
    const early = await sign({ sub: 'u1', iss: 'me', nbf: now() + 60 })
    expect(() => fast.verify(early, options)).toThrow(errors.JWTClaimValidationFailed)
    const stranger = await sign({ sub: 'u1', iss: 'you' })
    expect(() => fast.verify(stranger, options)).toThrow(errors.JWTClaimValidationFailed)
    const nobody = await sign({ iss: 'me' })
    expect(() => fast.verify(nobody, options)).toThrow(errors.JWTClaimValidationFailed)
  })

  it('leaves to jose what it does not verify itself: a bad signature, an algorithm not pinned, crit', async () => {
    const token = await sign({ sub: 'u1', iss: 'me' })
    const other = await new SignJWT({ sub: 'u1', iss: 'me' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET + '!'))
    expect(fast.verify(other, options)).toBeUndefined()
    expect(fast.verify(token.slice(0, token.lastIndexOf('.') + 1), options)).toBeUndefined()
    // The same signature bytes, written differently (base64url's last character's spare bits).
    const last = token.at(-1) as string
    const sibling = String.fromCharCode(last.charCodeAt(0) ^ 1)
    expect(fast.verify(token.slice(0, -1) + sibling, options)).toBeUndefined()
    expect(fast.verify(await sign({ sub: 'u1', iss: 'me' }, { alg: 'HS384' }), options)).toBeUndefined()
    // Signed by hand: jose refuses to sign a header with an extension it does not know.
    const input = `${b64({ alg: 'HS256', crit: ['x'], x: 1 })}.${b64({ sub: 'u1', iss: 'me' })}`
    const crit = `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`
    expect(fast.verify(crit, options)).toBeUndefined()
    expect(fast.verify('a.b', options)).toBeUndefined()
    expect(fast.verify('a.b.c.d', options)).toBeUndefined()
    expect(fast.verify(`${Buffer.from('not json').toString('base64url')}.e30.`, options)).toBeUndefined()
  })
})
