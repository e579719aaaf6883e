import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ApiKeys } from './api-keys.js'
import { JwtConfigError, loadVerificationKey } from './jwt-keys.js'
import { looksLikeJwt, userFromClaims } from './jwt.js'

const dir = mkdtempSync(join(tmpdir(), 'sb-keys-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const pem = (type: 'rsa' | 'ec' | 'ed25519', curve?: string) =>
  generateKeyPairSync(type as 'rsa', { modulusLength: 2048, namedCurve: curve } as never)
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString()
const load = (jwt: Record<string, unknown>) => loadVerificationKey({ clockToleranceMs: 0, ...jwt })
const error = (jwt: Record<string, unknown>) => {
  try {
    load(jwt)
  } catch (e) {
    if (e instanceof JwtConfigError) return `${e.path}: ${e.reason}`
    throw e
  }
  return 'no error'
}

describe('JWT keys and pinned algorithms', () => {
  it('derives the algorithms from the key type', () => {
    expect(load({ secret: 'x'.repeat(32) }).algorithms).toEqual(['HS256', 'HS384', 'HS512'])
    expect(load({ publicKey: pem('rsa') }).algorithms).toContain('RS256')
    expect(load({ publicKey: pem('rsa') }).algorithms).not.toContain('HS256')
    expect(load({ publicKey: pem('ec', 'P-256') }).algorithms).toEqual(['ES256'])
    expect(load({ publicKey: pem('ec', 'P-384') }).algorithms).toEqual(['ES384'])
    expect(load({ publicKey: pem('ed25519') }).algorithms).toEqual(['EdDSA', 'Ed25519'])
    expect(load({ secret: 'x'.repeat(32), algorithms: ['HS512'] }).algorithms).toEqual(['HS512'])
  })

  it('refuses algorithms the key cannot verify, none, several or no keys, bad PEM and bad JWKS', () => {
    expect(error({ publicKey: pem('rsa'), algorithms: ['HS256'] })).toMatch(
      /^auth\.jwt\.algorithms: HS256 cannot be used with an RSA public key/,
    )
    expect(error({ secret: 'x'.repeat(32), algorithms: ['none'] })).toMatch(/none cannot be used with an HMAC secret/)
    expect(error({ publicKey: pem('ec', 'P-256'), algorithms: ['ES384'] })).toMatch(/ES384 cannot be used/)
    expect(error({ secret: 'x'.repeat(32), algorithms: [] })).toMatch(/at least one/)
    expect(error({})).toBe('auth.jwt: set one of secret, publicKey, jwksFile or jwksUrl')
    expect(error({ secret: 'x', publicKey: 'y' })).toBe('auth.jwt: set only one of secret, publicKey')
    expect(error({ publicKey: 'not a pem' })).toMatch(/^auth\.jwt\.publicKey: expected a PEM key/)
    expect(error({ publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' })).toMatch(
      /not a valid PEM public key/,
    )
    const write = (name: string, text: string) => {
      const f = join(dir, name)
      writeFileSync(f, text)
      return f
    }
    expect(error({ jwksFile: join(dir, 'missing.json') })).toMatch(/file not found/)
    expect(error({ jwksFile: write('bad.json', '{"keys":[]}') })).toMatch(/is not a JWKS/)
    expect(error({ jwksFile: write('oct.json', '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}') })).toBe('no error')
    expect(
      error({ jwksFile: write('d.json', '{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}]}') }),
    ).toMatch(/private key/)
  })
})

describe('claims and tokens', () => {
  it('the user is { id: sub, ...claims } without registered claims or prototype keys', () => {
    const claims = JSON.parse(
      '{"sub":"a","iss":"i","aud":"x","exp":1,"iat":1,"nbf":1,"jti":"j","id":"forged","roles":["r"],"__proto__":{"admin":true},"constructor":1}',
    )
    const user = userFromClaims('a', claims as Record<string, unknown>)
    expect(user).toEqual({ id: 'a', roles: ['r'] })
    expect(Object.getPrototypeOf(user)).toBe(Object.prototype)
    expect((user as Record<string, unknown>).admin).toBeUndefined()
  })

  it('recognises the JWS compact shape only', () => {
    expect(looksLikeJwt('a.b.c')).toBe(true)
    expect(looksLikeJwt('a.b.')).toBe(true)
    expect(looksLikeJwt('letmein')).toBe(false)
    expect(looksLikeJwt('a.b.c.d')).toBe(false)
    expect(looksLikeJwt('a b.c.d')).toBe(false)
  })

  it('API keys match exactly, whatever their length', () => {
    const keys = new ApiKeys(['k'.repeat(40), 'short'])
    expect(keys.matches('k'.repeat(40))).toBe(true)
    expect(keys.matches('short')).toBe(true)
    expect(keys.matches('k'.repeat(39))).toBe(false)
    expect(keys.matches('')).toBe(false)
    expect(new ApiKeys([]).matches('anything')).toBe(false)
  })
})
