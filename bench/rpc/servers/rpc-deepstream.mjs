// deepstream.io 7 with its own RPC (provide / make); see bench/lib/deepstream.mjs.
import { startDeepstream } from '../../lib/deepstream.mjs'
import { runServer } from '../../servers/common.mjs'

runServer('rpc-deepstream', async () => ({ ...(await startDeepstream()), info: { endpoint: 'ws-binary' } }))
