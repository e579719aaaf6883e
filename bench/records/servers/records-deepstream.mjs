// deepstream.io 7 records with its default in-memory storage and cache; see bench/lib/deepstream.mjs.
import { startDeepstream } from '../../lib/deepstream.mjs'
import { runServer } from '../../servers/common.mjs'

runServer('records-deepstream', async () => ({
  ...(await startDeepstream()),
  info: { endpoint: 'ws-binary', storage: 'memory' },
}))
