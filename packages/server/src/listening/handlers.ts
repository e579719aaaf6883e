import { isValidPattern } from '@switchboard/protocol'
import { SwitchboardError } from '../errors.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import type { HandlerMap } from '../wire/dispatch.js'
import type { ConnectionListeners } from './connection-listeners.js'
import type { ListenService } from './listen-service.js'

/** Wire handlers for listening: the `listen` rule on the pattern, then the service. */
export function listeningHandlers(
  service: ListenService,
  connections: ConnectionListeners,
  policy: AccessPolicy,
): Pick<HandlerMap, 'lsn' | 'unlsn'> {
  return {
    lsn(session, m) {
      if (!isValidPattern(m.p)) throw new SwitchboardError('INVALID_NAME', `invalid name pattern: ${m.p}`)
      // Checked like a pattern subscription: the rule matching the pattern itself decides here,
      // and each name is checked again before this listener is given it.
      const kind = m.k === 'channel' ? 'channels' : 'records'
      if (!policy.allows({ kind, action: 'listen', name: m.p, user: session.user })) {
        throw new SwitchboardError('PERMISSION_DENIED', `not allowed to listen to ${m.p}`)
      }
      const listener = connections.listen(session, m.k, m.p)
      session.send({ t: 'ok', id: m.id })
      // After the ok: names already active reach a listener that knows it is registered.
      void service.catchUp(listener)
    },
    unlsn(session, m) {
      connections.unlisten(session, m.k, m.p)
      session.send({ t: 'ok', id: m.id })
    },
  }
}
