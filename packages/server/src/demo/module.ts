import type { ConceptModule } from '../core/concept-module.js'
import type { RouteHandler } from '../http/router.js'
import type { RpcProviderHandle } from '../rpc/in-process.js'
import type { ServerRpc } from '../rpc/server-api.js'
import type { ServerRecords } from '../records/server-records.js'
import { DEMO_VOTE_RPC, seedPoll, vote } from './voting.js'

export interface DemoDeps {
  enabled: boolean
  rpc: ServerRpc
  records: ServerRecords
  /** The demo page (`GET /`), when built. */
  page: RouteHandler
}

/**
 * The demo app at `/` (demo.enabled; on by default in development mode): the page, the poll it
 * votes in, and the vote handler. Chat, todos and presence need nothing on the server beyond
 * the features themselves (and history for `demo/**`, which config adds when the demo is on).
 */
export function demoModule(deps: DemoDeps): ConceptModule {
  let handle: RpcProviderHandle | undefined
  return {
    name: 'demo',
    messages: {},
    routes: () => (deps.enabled ? [{ path: '/', method: 'GET', handler: deps.page }] : []),
    async start() {
      if (!deps.enabled) return
      await seedPoll(deps.records)
      handle = deps.rpc.handle(DEMO_VOTE_RPC, (args, ctx) => vote(deps.records, args, ctx))
      await handle.ready
    },
    async close() {
      await handle?.stop()
    },
  }
}
