// The listening bench's server: Switchboard with hooks to the parent's receiver (argv[2]) and no
// grace period, so every subscribe to an empty channel and every last unsubscribe is a change.
import { runServer } from '../servers/common.mjs'

runServer('switchboard-listening', async () => {
  const { createServer } = await import('@switchboard/server')
  const server = createServer({
    server: { host: '127.0.0.1', port: 0 },
    storage: { type: 'memory' },
    log: { level: 'silent' },
    limits: { messagesPerSecond: 1_000_000, maxConnectionsPerIp: 1_000_000, connectsPerSecond: 0 },
    hooks: process.argv[2]
      ? { url: process.argv[2], secret: 'bench-hook-secret', graceMs: 0, events: ['occupied', 'vacated'] }
      : { graceMs: 0 },
  })
  const changes = { occupied: 0, vacated: 0 }
  server.on('occupied', () => changes.occupied++)
  server.on('vacated', () => changes.vacated++)
  const { port } = await server.listen()
  return { port, stats: () => ({ ...changes }), close: () => server.close() }
})
