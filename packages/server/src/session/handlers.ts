import type { RefreshReply } from '@switchboard/protocol'
import type { Authenticator } from '../auth/authenticator.js'
import type { HandlerMap } from '../wire/dispatch.js'
import { SwitchboardError } from '../errors.js'
import type { Session } from './session.js'

export interface SessionHandlerDeps {
  authenticator: Authenticator
  /** Run after a session's user object changed (token refresh): each concept re-checks what it holds. */
  onUserChanged: readonly ((session: Session) => void)[]
}

/** Connection-level messages of an open session. */
export function sessionHandlers(deps: SessionHandlerDeps): Pick<HandlerMap, 'hello' | 'ping' | 'pong' | 'refresh'> {
  return {
    hello() {
      throw new SwitchboardError('INVALID_MESSAGE', 'already connected')
    },
    ping(session) {
      session.send({ t: 'pong' })
    },
    pong() {},
    /**
     * Token refresh. Returned as a promise, so it holds the session's inbound queue: messages
     * sent after the refresh are checked against the new user, those before it against the old.
     * A failed refresh leaves the session as it was (it still ends when the old token expires).
     */
    async refresh(session, m) {
      const result = await deps.authenticator.authenticate({
        token: m.token,
        remoteAddress: session.transport.remoteAddress,
      })
      if (session.phase === 'closed') return
      const before = session.user?.id ?? null
      const after = result.user?.id ?? null
      if (before !== after) {
        throw new SwitchboardError(
          'AUTH_FAILED',
          'a refreshed token must be for the same user; reconnect to switch users',
        )
      }
      session.user = result.user
      session.tokenExpiresAt = result.expiresAt
      session.recheckAtExpiry = result.expiry === 'recheck'
      for (const recheck of deps.onUserChanged) recheck(session)
      session.send({ t: 'ok', id: m.id, r: { user: result.user ? { ...result.user } : null } satisfies RefreshReply })
    },
  }
}
