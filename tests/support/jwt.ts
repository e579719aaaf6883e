import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose'

/** A long enough HMAC secret for tests (production refuses secrets under 32 bytes). */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

const encode = (s: string) => new TextEncoder().encode(s)

/** An HS256 token for `sub` with extra claims; `expiresIn` in seconds (default 1 h). */
export function hsToken(
  sub: string,
  claims: JWTPayload = {},
  options: { secret?: string; expiresIn?: number; alg?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 3600))
    .sign(encode(options.secret ?? SECRET))
}

/** A compact JWS assembled by hand (for tokens no honest library would produce). */
export function rawToken(header: object, payload: object, signature = ''): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b64(header)}.${b64(payload)}.${signature}`
}

/** A fresh asymmetric key pair, its public key as PEM, and a temp dir holding it as a JWKS file. */
export async function keyPair(alg: 'RS256' | 'ES256' | 'EdDSA') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  const pem = await exportSPKI(publicKey)
  const dir = mkdtempSync(join(tmpdir(), 'sb-jwks-'))
  const jwksFile = join(dir, 'jwks.json')
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg, kid: 'k1', use: 'sig' }] }))
  const sign = (sub: string, claims: JWTPayload = {}, header: Record<string, unknown> = {}) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg, kid: 'k1', ...header })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey)
  return { pem, jwksFile, sign, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
