import { isQueryable } from '@switchboard/storage'
import type { ConceptModule } from '../core/concept-module.js'
import { wireEntries } from '../core/concept-module.js'
import type { ModuleContext } from '../core/module-context.js'
import type { RecordsModule } from '../records/module.js'
import { RECORD_STREAM_PREFIX } from '../records/record-service.js'
import { queryHandlers } from './handlers.js'
import { QUERY_API_PATH, queryApi } from './http-api.js'
import { QueryService, type QueryStrategy } from './query-service.js'
import { serverQueries, type ServerQueries } from './server-api.js'
import { querySchemas } from './wire-schemas.js'

export interface QueriesModule extends ConceptModule<'qsub' | 'qunsub'> {
  readonly service: QueryService
  /** `server.records.query` for the embedding app. */
  readonly api: ServerQueries
}

/**
 * Live queries over record collections. They hear every committed change from the records
 * module: this node's commits with the document (no storage read) and every change the engine
 * delivers on `$records/…`, which other nodes' changes reach this node through — each feed
 * subscribes its collection's pattern `$records/<collection>/*`.
 */
export function queriesModule(
  ctx: ModuleContext,
  records: RecordsModule,
  options: { strategy?: QueryStrategy } = {},
): QueriesModule {
  const { config } = ctx
  const service = new QueryService({
    store: ctx.store,
    broker: ctx.engine.broker,
    streamPrefix: RECORD_STREAM_PREFIX,
    policy: ctx.policy,
    limits: config.limits,
    log: ctx.log,
    ...(options.strategy && { strategy: options.strategy }),
  })
  records.service.observe({
    committed: (name, version, data) => service.committed(name, version, data),
    delivered: (change) => service.delivered(change.n, change.v),
  })
  return {
    name: 'queries',
    service,
    api: serverQueries(service),
    messages: wireEntries(querySchemas, queryHandlers(service)),
    routes: (api) => [{ path: QUERY_API_PATH, handler: queryApi(api, service) }],
    userChanged: (session) => service.recheck(session),
    sessionClosed: (session) => service.removeSession(session),
    // Declared indexes (config `collections`) are created with the storage, before the server is ready.
    start: async () => {
      const store = await ctx.store
      const declared = Object.entries(config.collections).filter(([, c]) => c.indexes.length > 0)
      if (declared.length === 0) return
      if (!isQueryable(store)) {
        ctx.log.warn('config collections declare query indexes, but the record store does not run queries')
        return
      }
      for (const [collection, { indexes }] of declared) {
        for (const paths of indexes) await store.ensureIndex(collection, paths.map(segmentsOf))
      }
    },
  }
}

function segmentsOf(path: string): string[] {
  return path.split('.')
}
