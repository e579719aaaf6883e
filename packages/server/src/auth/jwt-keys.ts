import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose'
import type { JwtConfig } from '../config/types.js'

/**
 * Key material for JWT verification and the algorithms each kind of key may verify. The
 * algorithm list is pinned to the key type, so a token can never pick an algorithm that
 * reinterprets the key (`none`, or HS256 keyed with an RSA public key).
 */

const HMAC = ['HS256', 'HS384', 'HS512']
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const RSA_PSS = ['PS256', 'PS384', 'PS512']
const EDDSA = ['EdDSA', 'Ed25519']
const EC_BY_CURVE: Record<string, string[]> = {
  prime256v1: ['ES256'],
  'P-256': ['ES256'],
  secp384r1: ['ES384'],
  'P-384': ['ES384'],
  secp521r1: ['ES512'],
  'P-521': ['ES512'],
}

export type VerificationKey = KeyObject | JWTVerifyGetKey

export interface KeySetup {
  key: VerificationKey
  algorithms: string[]
  /** What the key is, for error messages: "an HMAC secret", "an RSA public key", … */
  describe: string
  /** Keys fetched over the network (`jwksUrl`): verification may fail because the set is unreachable. */
  remote?: true
}

/** How long one fetch of a remote key set may take. */
const JWKS_FETCH_TIMEOUT_MS = 5000

/** A problem with `auth.jwt`, named by its key path (`auth.jwt.publicKey`). */
export class JwtConfigError extends Error {
  override name = 'JwtConfigError'
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`)
  }
}

/** Loads the key and checks `algorithms` against it; throws JwtConfigError. */
export function loadVerificationKey(jwt: JwtConfig): KeySetup {
  const given = (['secret', 'publicKey', 'jwksFile', 'jwksUrl'] as const).filter((k) => jwt[k] !== undefined)
  if (given.length !== 1) {
    throw new JwtConfigError(
      'auth.jwt',
      given.length === 0 ? 'set one of secret, publicKey, jwksFile or jwksUrl' : `set only one of ${given.join(', ')}`,
    )
  }
  const setup: KeySetup =
    jwt.secret !== undefined
      ? { key: hmacKeys(jwt.secret), algorithms: HMAC, describe: 'an HMAC secret' }
      : jwt.publicKey !== undefined
        ? publicKeySetup(jwt.publicKey)
        : jwt.jwksFile !== undefined
          ? jwksSetup(jwt.jwksFile)
          : remoteJwksSetup(jwt.jwksUrl as string, jwt)
  return { ...setup, algorithms: pinAlgorithms(jwt.algorithms, setup.algorithms, setup.describe) }
}

/**
 * The secret imported once per HMAC algorithm (jose would import a raw secret on every
 * verification, which doubles the cost of a handshake). jose checks `alg` against the pinned
 * list before asking for a key, so only HS256/384/512 get here.
 */
function hmacKeys(secret: string): JWTVerifyGetKey {
  const raw = new TextEncoder().encode(secret)
  const keys = new Map<string, Promise<CryptoKey>>()
  return (header) => {
    const alg = header.alg ?? ''
    if (!HMAC.includes(alg)) throw new Error(`unexpected algorithm ${alg}`)
    let key = keys.get(alg)
    if (!key) {
      key = crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['verify'])
      keys.set(alg, key)
    }
    return key
  }
}

function pinAlgorithms(configured: string[] | undefined, allowed: string[], describe: string): string[] {
  if (configured === undefined) return allowed
  if (configured.length === 0) throw new JwtConfigError('auth.jwt.algorithms', 'must list at least one algorithm')
  const bad = configured.filter((a) => !allowed.includes(a))
  if (bad.length > 0) {
    throw new JwtConfigError(
      'auth.jwt.algorithms',
      `${bad.join(', ')} cannot be used with ${describe} (allowed: ${allowed.join(', ')})`,
    )
  }
  return [...new Set(configured)]
}

function publicKeySetup(pem: string): Omit<KeySetup, 'algorithms'> & { algorithms: string[] } {
  if (!pem.includes('-----BEGIN')) {
    throw new JwtConfigError(
      'auth.jwt.publicKey',
      'expected a PEM key (-----BEGIN PUBLIC KEY-----…); for a key file use jwksFile',
    )
  }
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch (e) {
    throw new JwtConfigError('auth.jwt.publicKey', `not a valid PEM public key (${(e as Error).message})`)
  }
  const type = key.asymmetricKeyType
  if (type === 'rsa') return { key, algorithms: RSA, describe: 'an RSA public key' }
  if (type === 'rsa-pss') return { key, algorithms: RSA_PSS, describe: 'an RSA-PSS public key' }
  if (type === 'ed25519') return { key, algorithms: EDDSA, describe: 'an Ed25519 public key' }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? ''
    const algorithms = EC_BY_CURVE[curve]
    if (algorithms) return { key, algorithms, describe: `an EC ${curve} public key` }
    throw new JwtConfigError('auth.jwt.publicKey', `unsupported EC curve ${curve} (use P-256, P-384 or P-521)`)
  }
  throw new JwtConfigError('auth.jwt.publicKey', `unsupported key type ${type} (use RSA, EC or Ed25519)`)
}

function jwksSetup(file: string): Omit<KeySetup, 'algorithms'> & { algorithms: string[] } {
  let jwks: JSONWebKeySet
  try {
    jwks = JSON.parse(readFileSync(file, 'utf8')) as JSONWebKeySet
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    const why = err.code === 'ENOENT' ? 'file not found' : err.message
    throw new JwtConfigError('auth.jwt.jwksFile', `cannot read JWKS file ${file}: ${why}`)
  }
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    throw new JwtConfigError(
      'auth.jwt.jwksFile',
      `${file} is not a JWKS (expected { "keys": [ … ] } with at least one key)`,
    )
  }
  const algorithms = new Set<string>()
  for (const [i, jwk] of jwks.keys.entries()) {
    if ('d' in jwk)
      throw new JwtConfigError('auth.jwt.jwksFile', `key ${i} in ${file} is a private key; publish public keys only`)
    for (const alg of algorithmsOfJwk(jwk)) algorithms.add(alg)
  }
  if (algorithms.size === 0) throw new JwtConfigError('auth.jwt.jwksFile', `${file} has no usable signing keys`)
  let key: ReturnType<typeof createLocalJWKSet>
  try {
    key = createLocalJWKSet(jwks)
  } catch (e) {
    throw new JwtConfigError('auth.jwt.jwksFile', `invalid JWKS in ${file}: ${(e as Error).message}`)
  }
  return { key, algorithms: [...algorithms], describe: `the keys of ${file}` }
}

/**
 * An identity provider's key set over HTTP(S): fetched on first use, used for `jwksCacheTtlMs`,
 * and fetched again early (at most every `jwksCooldownMs`) when a token names a key it does not
 * have, so a key rotation is picked up without a restart. Asymmetric algorithms only: a shared
 * secret never travels in a key set.
 */
function remoteJwksSetup(url: string, jwt: JwtConfig): KeySetup {
  const parsed = parseJwksUrl(url)
  const key = createRemoteJWKSet(parsed, {
    cacheMaxAge: jwt.jwksCacheTtlMs,
    cooldownDuration: jwt.jwksCooldownMs,
    timeoutDuration: JWKS_FETCH_TIMEOUT_MS,
  })
  return {
    key,
    algorithms: [...RSA, 'ES256', 'ES384', 'ES512', ...EDDSA],
    describe: `the keys at ${url}`,
    remote: true,
  }
}

/** `auth.jwt.jwksUrl` as a URL; throws JwtConfigError unless it is http(s) without credentials. */
export function parseJwksUrl(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new JwtConfigError('auth.jwt.jwksUrl', `not a URL: ${url}`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new JwtConfigError('auth.jwt.jwksUrl', `must be an https URL (got ${parsed.protocol})`)
  }
  if (parsed.username || parsed.password) throw new JwtConfigError('auth.jwt.jwksUrl', 'must not contain credentials')
  return parsed
}

/** Algorithms one JWK may verify: its `alg` when given (and consistent), else its family. */
function algorithmsOfJwk(jwk: JWK): string[] {
  if (jwk.use !== undefined && jwk.use !== 'sig') return []
  const family =
    jwk.kty === 'RSA'
      ? RSA
      : jwk.kty === 'EC'
        ? (EC_BY_CURVE[jwk.crv ?? ''] ?? [])
        : jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
          ? EDDSA
          : jwk.kty === 'oct'
            ? HMAC
            : []
  if (jwk.alg === undefined) return family
  return family.includes(jwk.alg) ? [jwk.alg] : []
}
