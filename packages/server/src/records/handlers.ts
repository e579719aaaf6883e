import type { RecordMutation, RecordWriteReply } from '@switchboard/protocol'
import { toSwitchboardError } from '../errors.js'
import type { HandlerMap } from '../wire/dispatch.js'
import type { Session } from '../session/session.js'
import type { RecordService } from './record-service.js'
import { checkMutation, type MutationLimits, type WriteRequest } from './write-plan.js'

/**
 * Wire handlers for record messages. None holds the session's inbound queue: each record's
 * lane keeps that record's operations in arrival order, and replies carry request ids.
 */
export function recordHandlers(
  records: RecordService,
  limits: MutationLimits,
): Pick<HandlerMap, 'rsub' | 'runsub' | 'rget' | 'rset' | 'rupd' | 'rdel'> {
  const fail = (session: Session, id: number) => (err: unknown) => {
    const e = toSwitchboardError(err)
    session.sendError(id, e.code, e.message, e.data)
  }

  const write = (
    session: Session,
    m: { id: number; n: string; iv?: number; w?: string },
    mutation: RecordMutation,
  ): void => {
    checkMutation(mutation, limits)
    const req: WriteRequest = { name: m.n, mutation, user: session.user, trusted: false }
    if (m.iv !== undefined) req.ifVersion = m.iv
    if (m.w !== undefined) req.writeId = m.w
    records.write(req, (outcome) => {
      if (outcome.ok) session.send({ t: 'ok', id: m.id, r: { v: outcome.version } satisfies RecordWriteReply })
      else session.sendError(m.id, outcome.error.code, outcome.error.message, outcome.error.data)
    })
  }

  return {
    rsub(session, m) {
      records.subscribe(session, m.id, m.n, m.v, m.w).catch(fail(session, m.id))
    },
    runsub(session, m) {
      records.unsubscribe(session, m.n)
      session.send({ t: 'ok', id: m.id })
    },
    rget(session, m) {
      records
        .read(m.n, session.user, false)
        .then(
          (state) => session.send({ t: 'ok', id: m.id, r: records.snapshotReply(state, session.user, undefined, m.w) }),
          fail(session, m.id),
        )
    },
    rset(session, m) {
      write(session, m, m.p === undefined ? { kind: 'set', value: m.d } : { kind: 'set', path: m.p, value: m.d })
    },
    rupd(session, m) {
      write(session, m, { kind: 'update', ops: m.ops })
    },
    rdel(session, m) {
      write(session, m, { kind: 'delete' })
    },
  }
}
