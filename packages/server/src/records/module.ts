import type { ConceptModule } from '../core/concept-module.js'
import { wireEntries } from '../core/concept-module.js'
import type { ModuleContext } from '../core/module-context.js'
import { recordHandlers } from './handlers.js'
import { laggingAbove } from './laggards.js'
import { recordsApi, RECORDS_API_PREFIX } from './http-api.js'
import { RECORD_STREAM_PREFIX, RecordService } from './record-service.js'
import { serverRecords, type ServerRecords } from './server-records.js'
import { WritePlanner } from './write-plan.js'
import { recordSchemas } from './wire-schemas.js'

export interface RecordsModule extends ConceptModule<'rsub' | 'runsub' | 'rget' | 'rset' | 'rupd' | 'rdel'> {
  readonly service: RecordService
  /** `server.records` for the embedding app. */
  readonly api: ServerRecords
}

/** Records: versioned JSON documents in storage; committed changes travel on `$records/<name>` streams. */
export function recordsModule(ctx: ModuleContext): RecordsModule {
  const { config, policy, counters } = ctx
  const service = new RecordService({
    store: ctx.store,
    broker: ctx.engine.broker,
    policy,
    planner: new WritePlanner(policy, ctx.dataSchemas, config.limits),
    budget: ctx.budget,
    log: ctx.log,
    occupancy: ctx.occupancy,
    committed: ctx.engine.committedWrites,
    laggingAbove: laggingAbove(config.limits.maxBufferedBytes),
  })
  return {
    name: 'records',
    service,
    api: serverRecords(service, config.limits),
    messages: wireEntries(recordSchemas, recordHandlers(service, config.limits)),
    stream: {
      prefix: RECORD_STREAM_PREFIX,
      receive(publication) {
        counters.recordChanges++
        service.onPublication(publication)
      },
    },
    routes: (api) => [{ prefix: RECORDS_API_PREFIX, handler: recordsApi(api, service, config.limits) }],
    userChanged: (session) => service.recheck(session),
    sessionClosed: (session) => service.removeSession(session),
    // Storage opens with the server (`server.ready` waits for it) and closes after writes drain.
    start: async () => void (await ctx.store),
    close: () => service.close(),
  }
}
