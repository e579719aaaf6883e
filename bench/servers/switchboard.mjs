// Switchboard, embedded with the in-memory storage and engine, no auth (development mode).
// Publishes arrive over the wire from the load generator's publisher connection (`pub` frames).
import { runServer } from './common.mjs'

runServer('switchboard', async () => {
  const { createServer } = await import('@switchboard/server')
  const server = createServer({
    server: { host: '127.0.0.1', port: 0 },
    storage: { type: 'memory' },
    log: { level: 'silent' },
    // All load comes from 127.0.0.1: lift the per-IP connection cap (default 100), and the
    // single publisher connection of the rooms scenario runs close to the default per-connection
    // rate limit (1000 msg/s). Limits are not what is being measured.
    limits: { messagesPerSecond: 1_000_000, maxConnectionsPerIp: 1_000_000, connectsPerSecond: 0 },
  })
  const { port } = await server.listen()
  return {
    port,
    close: () => server.close(),
  }
})
