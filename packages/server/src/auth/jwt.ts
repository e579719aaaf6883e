import { errors, jwtVerify, type JWTPayload } from 'jose'
import type { JwtConfig } from '../config/types.js'
import { SwitchboardError } from '../errors.js'
import type { AuthResult, AuthUser } from './authenticator.js'
import { HmacJwtFastPath } from './jwt-hmac.js'
import { loadVerificationKey, type KeySetup } from './jwt-keys.js'

/** Registered claims: they describe the token, not the user, so they stay out of `sb.user`. */
const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'])
/** Keys that must never become properties of a user object someone might merge later. */
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor'])

/**
 * Verifies client JWTs: signature with the one configured key (secret, PEM public key or
 * JWKS file), the algorithm against the list pinned to that key, `iss`/`aud` when configured,
 * `exp`/`nbf` with a small clock tolerance, and a `sub`. The user is `{ id: sub, ...claims }`.
 */
export class JwtVerifier {
  private readonly setup: KeySetup
  private readonly toleranceSec: number
  /** With a secret: HS256/384/512 verified synchronously (jose's WebCrypto HMAC is an async job). */
  private readonly hmac: HmacJwtFastPath | undefined

  /** Throws JwtConfigError for a bad key or an algorithm the key cannot verify. */
  constructor(private readonly config: JwtConfig) {
    this.setup = loadVerificationKey(config)
    this.toleranceSec = Math.ceil(config.clockToleranceMs / 1000)
    this.hmac = config.secret === undefined ? undefined : new HmacJwtFastPath(config.secret, this.setup.algorithms)
  }

  get algorithms(): readonly string[] {
    return this.setup.algorithms
  }

  async verify(token: string): Promise<AuthResult> {
    let payload: JWTPayload
    try {
      const options = {
        algorithms: this.setup.algorithms,
        clockTolerance: this.toleranceSec,
        requiredClaims: ['sub'],
        ...(this.config.issuer !== undefined && { issuer: this.config.issuer }),
        ...(this.config.audience !== undefined && { audience: this.config.audience }),
      }
      // The overloads of jwtVerify differ only in the key type; one call site serves all three.
      const key = this.setup.key as Parameters<typeof jwtVerify>[1]
      payload = this.hmac?.verify(token, options) ?? (await jwtVerify(token, key, options)).payload
    } catch (err) {
      throw this.setup.remote && unreachable(err)
        ? new SwitchboardError('AUTH_FAILED', 'the key set could not be fetched; try again later')
        : joseFailure(err)
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
      throw new SwitchboardError('AUTH_FAILED', 'token "sub" claim must be a non-empty string')
    }
    const result: AuthResult = { user: userFromClaims(payload.sub, payload) }
    if (typeof payload.exp === 'number') result.expiresAt = payload.exp * 1000 + this.toleranceSec * 1000
    if (typeof payload.iat === 'number') result.issuedAt = payload.iat * 1000
    return result
  }
}

export function userFromClaims(id: string, claims: Record<string, unknown>): AuthUser {
  const user: AuthUser = { id }
  for (const [key, value] of Object.entries(claims)) {
    if (key === 'id' || REGISTERED.has(key) || FORBIDDEN.has(key)) continue
    user[key] = value
  }
  return user
}

/** A cheap shape test: three base64url parts (the JWS compact form). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)
}

/** A remote key set that did not arrive: a network error, a timeout, or not a JWKS. */
function unreachable(err: unknown): boolean {
  return (
    err instanceof errors.JWKSTimeout ||
    err instanceof errors.JWKSInvalid ||
    !(err instanceof errors.JOSEError) ||
    err.constructor === errors.JOSEError // a status other than 200, a body that is not JSON
  )
}

/** Maps jose's errors to the two codes the auth seam may use, with a reason safe to show. */
function joseFailure(err: unknown): SwitchboardError {
  if (err instanceof errors.JWTExpired) return new SwitchboardError('TOKEN_EXPIRED', 'token expired')
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new SwitchboardError('AUTH_FAILED', 'token is not valid yet (nbf)')
    if (err.claim === 'sub') return new SwitchboardError('AUTH_FAILED', 'token has no "sub" claim')
    return new SwitchboardError('AUTH_FAILED', `token "${err.claim}" claim is not accepted`)
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new SwitchboardError('AUTH_FAILED', 'token algorithm is not allowed')
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return new SwitchboardError('AUTH_FAILED', 'token signature is invalid')
  if (err instanceof errors.JWKSNoMatchingKey)
    return new SwitchboardError('AUTH_FAILED', 'no configured key matches the token')
  return new SwitchboardError('AUTH_FAILED', 'token is malformed or cannot be verified')
}
