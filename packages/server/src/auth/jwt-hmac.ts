import { createHmac, timingSafeEqual } from 'node:crypto'
import { UnsecuredJWT, type JWTClaimVerificationOptions, type JWTPayload } from 'jose'

const HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }
/** `{"alg":"none"}`: the header under which jose checks the claims of a payload verified here. */
const NONE_HEADER = Buffer.from('{"alg":"none"}').toString('base64url')

/**
 * An HMAC-signed JWT (HS256/384/512) verified in this turn with node:crypto. jose verifies with
 * WebCrypto, whose HMAC runs as an async job on the thread pool: ~60–100 µs of server CPU per
 * connect against ~5 µs here. Only the signature is checked here; the claims (`exp`, `nbf`,
 * `iss`, `aud`, required `sub`, clock tolerance) are still jose's, run on the verified payload.
 * Anything unusual — a header that is not plain JSON, an algorithm not pinned, `crit` or `b64`,
 * a signature that does not match in its canonical form — returns undefined, and the caller
 * gives the token to jose's full path, so every failure keeps jose's error.
 */
export class HmacJwtFastPath {
  private readonly secret: Buffer

  constructor(
    secret: string,
    private readonly algorithms: readonly string[],
  ) {
    // jose imports the secret as its UTF-8 bytes (TextEncoder); the same bytes here.
    this.secret = Buffer.from(secret, 'utf8')
  }

  /** The payload of a valid token, throws jose's claim errors, or undefined: use jose. */
  verify(token: string, options: JWTClaimVerificationOptions): JWTPayload | undefined {
    const first = token.indexOf('.')
    const second = token.indexOf('.', first + 1)
    if (first <= 0 || second < 0 || token.indexOf('.', second + 1) !== -1) return undefined
    const alg = headerAlg(token.slice(0, first))
    const hash = alg === undefined ? undefined : HASH[alg]
    if (alg === undefined || hash === undefined || !this.algorithms.includes(alg)) return undefined
    const expected = Buffer.from(
      createHmac(hash, this.secret).update(token.slice(0, second)).digest('base64url'),
      'latin1',
    )
    const given = Buffer.from(token.slice(second + 1), 'latin1')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    return UnsecuredJWT.decode(`${NONE_HEADER}.${token.slice(first + 1, second)}.`, options).payload
  }
}

/** The header's `alg` when the header is a plain JSON object without `crit` or `b64`. */
function headerAlg(part: string): string | undefined {
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined
  if ('crit' in header || 'b64' in header) return undefined
  const alg = (header as { alg?: unknown }).alg
  return typeof alg === 'string' ? alg : undefined
}
