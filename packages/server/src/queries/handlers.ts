import type { HandlerMap } from '../wire/dispatch.js'
import type { QueryService } from './query-service.js'

/**
 * Wire handlers for live queries. `qsub` holds the session's inbound queue until the query is
 * registered (limits and ids stay exact; a `qunsub` right after finds it); the reply itself
 * comes when the query's view has its rows.
 */
export function queryHandlers(queries: QueryService): Pick<HandlerMap, 'qsub' | 'qunsub'> {
  return {
    qsub(session, m) {
      const options: Record<string, unknown> = {}
      if (m.w !== undefined) options.where = m.w
      if (m.o !== undefined) options.orderBy = m.o
      if (m.l !== undefined) options.limit = m.l
      const spec = queries.parse(m.c, options)
      return queries.subscribe(session, m.id, m.q, spec, m.k && new Map(m.k))
    },
    qunsub(session, m) {
      queries.unsubscribe(session, m.q)
      session.send({ t: 'ok', id: m.id })
    },
  }
}
