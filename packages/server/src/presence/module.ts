import type { ConceptModule } from '../core/concept-module.js'
import { wireEntries } from '../core/concept-module.js'
import type { ModuleContext } from '../core/module-context.js'
import { presenceHandlers, presenceRecheck } from './handlers.js'
import { presenceApi, PRESENCE_API_PATH } from './http-api.js'
import { isSharedPresenceStore } from '../engine/presence-store.js'
import { PRESENCE_STREAM_PREFIX, PresenceService } from './presence-service.js'
import { serverPresence, type ServerPresence } from './server-api.js'
import { presenceSchemas } from './wire-schemas.js'

export interface PresenceModule extends ConceptModule<'pjoin' | 'pleave' | 'pwatch' | 'punwatch'> {
  /** `server.presence` for the embedding app. */
  readonly api: ServerPresence
}

/** Presence: who is online per room and globally, with batched diffs. */
export function presenceModule(ctx: ModuleContext): PresenceModule {
  const { config, policy } = ctx
  const { engine } = ctx
  const store = engine.presenceStore
  // A store shared by several nodes: changes travel between them on `$presence/<room>` streams.
  const cluster = isSharedPresenceStore(store) ? { store, broker: engine.broker, nodeId: engine.nodeId } : undefined
  const service = new PresenceService(store, config.presence, ctx.log, cluster)
  return {
    name: 'presence',
    api: serverPresence(service),
    stream: { prefix: PRESENCE_STREAM_PREFIX, receive: (publication) => service.receive(publication) },
    messages: wireEntries(presenceSchemas, presenceHandlers(service, policy, config.limits)),
    routes: (api) => {
      const handler = presenceApi(api, service, policy)
      return [
        { path: PRESENCE_API_PATH, handler },
        { prefix: `${PRESENCE_API_PATH}/`, handler },
      ]
    },
    userChanged: presenceRecheck(service, policy),
    sessionClosed: (session) => service.removeSession(session),
    close: async () => {
      await service.close()
      await store.close()
    },
  }
}
