import type { ConceptModule } from '../core/concept-module.js'
import { wireEntries } from '../core/concept-module.js'
import type { ModuleContext } from '../core/module-context.js'
import { rpcHandlers, rpcRecheck } from './handlers.js'
import { rpcApi, RPC_API_PREFIX } from './http-api.js'
import { RpcService } from './rpc-service.js'
import { serverRpc, type ServerRpc } from './server-api.js'
import { rpcSchemas } from './wire-schemas.js'

export interface RpcModule extends ConceptModule<'rpc' | 'prov' | 'unprov' | 'rpcres' | 'rpcerr' | 'rpcrej'> {
  /** `server.rpc` for the embedding app. */
  readonly api: ServerRpc
}

/** RPC: calls routed to whichever connection or in-process handler provides a name. */
export function rpcModule(ctx: ModuleContext): RpcModule {
  const { config, policy } = ctx
  const router = ctx.engine.rpcRouter
  const service = new RpcService(router, config.rpc, ctx.log, ctx.clock)
  const recheck = rpcRecheck(service, policy)
  return {
    name: 'rpc',
    api: serverRpc(service),
    messages: wireEntries(rpcSchemas, rpcHandlers(service, policy, config.limits)),
    routes: (api) => [{ prefix: RPC_API_PREFIX, handler: rpcApi(api, service, policy, config.limits) }],
    userChanged: recheck,
    sessionClosed: (session) => service.removeSession(session),
    start: () => router.start(service),
    close: async () => {
      await service.close()
      await router.close()
    },
  }
}
