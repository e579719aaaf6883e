import type { ConceptModule } from '../core/concept-module.js'
import { wireEntries } from '../core/concept-module.js'
import type { ModuleContext } from '../core/module-context.js'
import type { NodeOccupancy } from '../occupancy/node-occupancy.js'
import { ConnectionListeners } from './connection-listeners.js'
import { listeningHandlers } from './handlers.js'
import { ListenService } from './listen-service.js'
import { serverListen, type ListenHandler, type ServerListenOptions, type ServerListener } from './server-api.js'
import { listeningSchemas } from './wire-schemas.js'

export interface ListeningModule extends ConceptModule<'lsn' | 'unlsn'> {
  /** `server.listen(pattern, handler)` for the embedding app. */
  readonly listen: (pattern: string, handler: ListenHandler, options?: ServerListenOptions) => ServerListener
  readonly service: ListenService
}

/** Listening: active data providers told when matching channels or records gain their first subscriber. */
export function listeningModule(ctx: ModuleContext, occupancy: NodeOccupancy): ListeningModule {
  const { policy } = ctx
  const service = new ListenService(ctx.engine.occupancy, ctx.engine.nodeId, policy, ctx.log)
  const connections = new ConnectionListeners(service, ctx.budget, policy)
  occupancy.onEvent((event) => service.onEvent(event))
  return {
    name: 'listening',
    service,
    listen: serverListen(service, ctx.log),
    messages: wireEntries(listeningSchemas, listeningHandlers(service, connections, policy)),
    userChanged: (session) => connections.recheck(session),
    sessionClosed: (session) => connections.removeSession(session),
  }
}
