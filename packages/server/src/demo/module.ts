import type { ConceptModule } from '../core/concept-module.js'
import type { RpcProviderHandle } from '../rpc/in-process.js'
import type { ServerRpc } from '../rpc/server-api.js'
import type { ServerRecords } from '../records/server-records.js'
import { DEMO_VOTE_RPC, vote } from './voting.js'

export interface DemoDeps {
  enabled: boolean
  rpc: ServerRpc
  records: ServerRecords
}

/**
 * The demo app's server side (demo.enabled; on by default in development mode): the vote
 * handler of its poll. Chat, todos and presence need nothing on the server beyond the features
 * themselves (and history for `demo/**`, which config adds when the demo is on). The page
 * itself is mounted by `createServer` (see http/static-site.ts).
 */
export function demoModule(deps: DemoDeps): ConceptModule {
  let handle: RpcProviderHandle | undefined
  return {
    name: 'demo',
    messages: {},
    async start() {
      if (!deps.enabled) return
      handle = deps.rpc.handle(DEMO_VOTE_RPC, (args, ctx) => vote(deps.records, args, ctx))
      await handle.ready
    },
    async close() {
      await handle?.stop()
    },
  }
}
