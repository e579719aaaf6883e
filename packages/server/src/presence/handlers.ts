import { allowAll, type AccessPolicy } from '../permissions/access-policy.js'
import { checkData } from '../wire/data-guard.js'
import type { HandlerMap } from '../wire/dispatch.js'
import type { Session } from '../session/session.js'
import { SwitchboardError } from '../errors.js'
import { PresenceService } from './presence-service.js'

/**
 * Wire handlers for presence: validation and permission checks, then the service. Joins and
 * leaves hold the connection's inbound queue until the store answered, so a join followed by
 * a leave can never apply in the other order.
 */
export function presenceHandlers(
  presence: PresenceService,
  policy: AccessPolicy,
  limits: { maxJsonDepth: number },
): Pick<HandlerMap, 'pjoin' | 'pleave' | 'pwatch' | 'punwatch'> {
  return {
    pjoin(session, m) {
      PresenceService.check(m.r)
      const problem = checkData(m.m, limits.maxJsonDepth)
      if (problem) throw new SwitchboardError('INVALID_DATA', problem)
      if (!policy.allows({ kind: 'presence', action: 'join', name: m.r, user: session.user, data: m.m })) {
        throw new SwitchboardError('PERMISSION_DENIED', `not allowed to join presence of ${m.r}`)
      }
      return presence.join(session, m.r, m.m).then(() => session.send({ t: 'ok', id: m.id }))
    },
    pleave(session, m) {
      return presence.leave(session, m.r).then(() => session.send({ t: 'ok', id: m.id }))
    },
    pwatch(session, m) {
      PresenceService.check(m.r)
      if (!policy.allows({ kind: 'presence', action: 'read', name: m.r, user: session.user })) {
        throw new SwitchboardError('PERMISSION_DENIED', `not allowed to read presence of ${m.r}`)
      }
      presence.watch(session, m.r, m.cnt === true)
      session.send({ t: 'ok', id: m.id })
    },
    punwatch(session, m) {
      presence.unwatch(session, m.r)
      session.send({ t: 'ok', id: m.id })
    },
  }
}

/** After a token refresh: joins and watches the new claims no longer allow end, and the client is told. */
export function presenceRecheck(presence: PresenceService, policy: AccessPolicy): (session: Session) => void {
  return (session) => {
    const st = presence.stateOf(session)
    if (!st || policy === allowAll) return
    const user = session.user
    for (const [room, meta] of [...st.joined]) {
      if (policy.allows({ kind: 'presence', action: 'join', name: room, user, data: meta ?? undefined })) continue
      presence.leave(session, room).catch(() => {})
      session.send({
        t: 'pend',
        r: room,
        what: 'join',
        code: 'PERMISSION_DENIED',
        msg: `no longer allowed to join ${room}`,
      })
    }
    for (const room of [...st.watching.keys()]) {
      if (policy.allows({ kind: 'presence', action: 'read', name: room, user })) continue
      presence.unwatch(session, room)
      session.send({
        t: 'pend',
        r: room,
        what: 'watch',
        code: 'PERMISSION_DENIED',
        msg: `no longer allowed to read ${room}`,
      })
    }
  }
}
