import type { IncomingMessage } from 'node:http'
import type { Authenticator, AuthUser } from '../auth/authenticator.js'
import { SwitchboardError } from '../errors.js'

/**
 * The user of an HTTP API request: `Authorization: Bearer <jwt or API key>` goes through the
 * same Authenticator as a connection's token (an API key yields the trusted backend user);
 * no header asks for an anonymous user, which the authenticator allows or refuses.
 */
export async function authenticateRequest(
  req: IncomingMessage,
  authenticator: Authenticator,
  remoteAddress: string,
): Promise<AuthUser | null> {
  const header = req.headers.authorization
  if (header === undefined) return (await authenticator.authenticate({ remoteAddress })).user
  const token = bearerToken(header)
  if (token === undefined)
    throw new SwitchboardError('AUTH_FAILED', 'the Authorization header must be "Bearer <token>"')
  return (await authenticator.authenticate({ token, remoteAddress })).user
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer +(\S+)\s*$/i.exec(header)
  return m ? (m[1] as string) : undefined
}
