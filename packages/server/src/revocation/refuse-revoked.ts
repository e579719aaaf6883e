import type { Authenticator } from '../auth/authenticator.js'
import { isBackend } from '../auth/backend.js'
import { SwitchboardError } from '../errors.js'
import type { RevokedUsers } from './revoked-users.js'

/**
 * The server's authenticator with revocations applied: credentials of a revoked user vouched
 * for before the revocation are refused (hello, refresh and HTTP API alike). API keys are
 * configuration, not credentials a user holds: they are never refused here.
 */
export function refuseRevoked(inner: Authenticator, revoked: RevokedUsers): Authenticator {
  return {
    authenticate(credentials) {
      const result = inner.authenticate(credentials)
      // An anonymous result passes as it came (nobody to revoke); the rest is checked after.
      if (!(result instanceof Promise) && result.user === null) return result
      return Promise.resolve(result).then((r) => {
        const user = r.user
        if (user && !isBackend(user) && revoked.refuses(user.id, r.issuedAt)) {
          throw new SwitchboardError('AUTH_FAILED', 'access revoked: sign in again')
        }
        return r
      })
    },
  }
}
