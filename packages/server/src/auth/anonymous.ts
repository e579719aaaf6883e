import { SwitchboardError } from '../errors.js'
import type { Authenticator, AuthResult } from './authenticator.js'

/** Development default: everyone connects as the anonymous user; tokens are refused, not ignored. */
export class AnonymousAuthenticator implements Authenticator {
  authenticate(credentials: { token?: string }): AuthResult | Promise<AuthResult> {
    if (credentials.token !== undefined) {
      return Promise.reject(new SwitchboardError('AUTH_FAILED', 'this server has no token verification configured'))
    }
    return { user: null }
  }
}
