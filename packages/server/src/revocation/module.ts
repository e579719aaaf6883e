import { CloseCode } from '@switchboard/protocol'
import type { Clock } from '../clock.js'
import type { ConceptModule } from '../core/concept-module.js'
import type { Broker, Publication } from '../engine/broker.js'
import type { Logger } from '../log.js'
import type { Session } from '../session/session.js'
import { REVOKE_API_PATH, revokeApi } from './http-api.js'
import type { RevokedUsers } from './revoked-users.js'

/** The internal stream every node listens to for revocations. */
export const REVOKE_STREAM = '$revoke'
const NO_HISTORY = { history: { size: 0, ttlMs: 0 } }

export interface RevocationModule extends ConceptModule {
  /** `server.revoke(userId)`: resolves once every node has been told (this one has acted). */
  revoke(userId: string): Promise<void>
}

export interface RevocationDeps {
  broker: Broker
  revoked: RevokedUsers
  clock: Clock
  log: Logger
}

/**
 * Revocation by user id (`server.revoke`, `POST /api/revoke`): announced on an engine stream
 * every node subscribes to, so each closes that user's sessions (4500 AUTH_FAILED: the client
 * stops) and refuses the credentials they had. The node that revokes acts at once, without
 * waiting for its own announcement to come back.
 */
export function revocationModule(deps: RevocationDeps): RevocationModule {
  const { broker, revoked, clock, log } = deps
  const sessionsByUser = new Map<string, Set<Session>>()

  const apply = (userId: string, at: number) => {
    revoked.add(userId, at)
    const sessions = sessionsByUser.get(userId)
    if (!sessions) return
    log.info({ user: userId, sessions: sessions.size }, 'access revoked: closing sessions')
    for (const s of [...sessions]) s.close(CloseCode.AUTH_FAILED, 'access revoked')
  }

  const revoke = async (userId: string) => {
    const at = clock.now()
    apply(userId, at)
    await broker.publish(REVOKE_STREAM, { user: userId, at }, NO_HISTORY)
  }

  return {
    name: 'revocation',
    messages: {},
    revoke,
    stream: {
      prefix: REVOKE_STREAM,
      receive(publication: Publication) {
        const { user, at } = publication.data as { user?: unknown; at?: unknown }
        if (typeof user === 'string' && typeof at === 'number') apply(user, at)
      },
    },
    routes: (api) => [{ path: REVOKE_API_PATH, handler: revokeApi(api, revoke) }],
    sessionOpened(session) {
      const id = session.user?.id
      if (id === undefined) return
      let sessions = sessionsByUser.get(id)
      if (!sessions) sessionsByUser.set(id, (sessions = new Set()))
      sessions.add(session)
    },
    sessionClosed(session) {
      const id = session.user?.id
      if (id === undefined) return
      const sessions = sessionsByUser.get(id)
      if (sessions?.delete(session) && sessions.size === 0) sessionsByUser.delete(id)
    },
    start: () => broker.subscribe(REVOKE_STREAM),
    close: () => broker.unsubscribe(REVOKE_STREAM),
  }
}
