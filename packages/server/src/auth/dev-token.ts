import { SignJWT } from 'jose'
import type { SwitchboardConfig } from '../config/types.js'
import { parseDuration } from '../config/units.js'

export interface DevTokenOptions {
  user: string
  claims?: Record<string, unknown>
  /** A duration (`1h`, `30m`, milliseconds); default 1h. */
  expiresIn?: string | number
}

/**
 * `switchboard token`: a JWT for development, signed with `auth.jwt.secret` and carrying the
 * configured issuer and audience, so the server accepts it. Throws when there is no secret.
 */
export async function signDevelopmentToken(config: SwitchboardConfig, options: DevTokenOptions): Promise<string> {
  const jwt = config.auth.jwt
  if (jwt?.secret === undefined) {
    throw new Error(
      'the config has no auth.jwt.secret to sign with (tokens for publicKey/jwksFile setups come from your identity provider)',
    )
  }
  if (options.user.length === 0) throw new Error('--user must not be empty')
  const alg = jwt.algorithms?.find((a) => /^HS(256|384|512)$/.test(a)) ?? 'HS256'
  const lifetimeMs = parseDuration(options.expiresIn ?? '1h')
  if (lifetimeMs <= 0) throw new Error('--expires must be a positive duration')
  const now = Math.floor(Date.now() / 1000)
  const builder = new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setSubject(options.user)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.ceil(lifetimeMs / 1000))
  const issuer = first(jwt.issuer)
  const audience = first(jwt.audience)
  if (issuer !== undefined) builder.setIssuer(issuer)
  if (audience !== undefined) builder.setAudience(audience)
  return builder.sign(new TextEncoder().encode(jwt.secret))
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
