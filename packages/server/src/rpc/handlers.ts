import { isValidName, type OkMessage } from '@switchboard/protocol'
import { allowAll, type AccessPolicy } from '../permissions/access-policy.js'
import { checkData } from '../wire/data-guard.js'
import type { HandlerMap } from '../wire/dispatch.js'
import type { Session } from '../session/session.js'
import { SwitchboardError } from '../errors.js'
import type { RpcService } from './rpc-service.js'

/** Wire handlers for RPC: validation and permission checks, then the service. */
export function rpcHandlers(
  rpc: RpcService,
  policy: AccessPolicy,
  limits: { maxJsonDepth: number },
): Pick<HandlerMap, 'rpc' | 'prov' | 'unprov' | 'rpcres' | 'rpcerr' | 'rpcrej'> {
  return {
    rpc(session, m) {
      if (!isValidName(m.n)) throw new SwitchboardError('INVALID_NAME', `invalid RPC name: ${m.n}`)
      const problem = checkData(m.a, limits.maxJsonDepth)
      if (problem) throw new SwitchboardError('INVALID_DATA', problem)
      if (!policy.allows({ kind: 'rpc', action: 'call', name: m.n, user: session.user, data: m.a })) {
        throw new SwitchboardError('PERMISSION_DENIED', `not allowed to call ${m.n}`)
      }
      // Not returned: a call must not hold the caller's inbound queue while a provider works.
      rpc.call(m.n, m.a, session.user, session.id, m.to, (err, result) => {
        if (err) session.sendError(m.id, err.code, err.message, err.data)
        else
          session.send(
            result === undefined ? { t: 'ok', id: m.id } : ({ t: 'ok', id: m.id, r: result } satisfies OkMessage),
          )
      })
    },
    prov(session, m) {
      if (!isValidName(m.n)) throw new SwitchboardError('INVALID_NAME', `invalid RPC name: ${m.n}`)
      if (!policy.allows({ kind: 'rpc', action: 'provide', name: m.n, user: session.user })) {
        throw new SwitchboardError('PERMISSION_DENIED', `not allowed to provide ${m.n}`)
      }
      return rpc.provide(session, m.n).then(() => session.send({ t: 'ok', id: m.id }))
    },
    unprov(session, m) {
      return rpc.unprovide(session, m.n).then(() => session.send({ t: 'ok', id: m.id }))
    },
    rpcres(session, m) {
      const problem = checkData(m.r, limits.maxJsonDepth)
      if (problem)
        rpc.answer(session, m.c, {
          kind: 'error',
          code: 'INVALID_DATA',
          message: `the provider's result was refused: ${problem}`,
        })
      else rpc.answer(session, m.c, { kind: 'result', value: m.r })
    },
    rpcerr(session, m) {
      rpc.answer(
        session,
        m.c,
        m.code === undefined ? { kind: 'error', message: m.msg } : { kind: 'error', message: m.msg, code: m.code },
      )
    },
    rpcrej(session, m) {
      rpc.answer(session, m.c, { kind: 'reject' })
    },
  }
}

/** After a token refresh: names the new claims no longer allow this connection to provide end. */
export function rpcRecheck(rpc: RpcService, policy: AccessPolicy): (session: Session) => void {
  return (session) => {
    const provided = rpc.provided(session)
    if (provided.size === 0 || policy === allowAll) return
    for (const name of [...provided]) {
      if (policy.allows({ kind: 'rpc', action: 'provide', name, user: session.user })) continue
      rpc.unprovide(session, name).catch(() => {})
      session.send({ t: 'provend', n: name, code: 'PERMISSION_DENIED', msg: `no longer allowed to provide ${name}` })
    }
  }
}
