// The listening bench's server: Switchboard with hooks to the parent's receiver (argv[2], `-` for
// none) and no grace period, so every subscribe to an empty channel and every last unsubscribe is
// a change. With argv[3] (a Redis URL) and argv[4] (a key prefix) it is one node of a cluster on
// the Redis engine.
import { runServer } from '../servers/common.mjs'

runServer('switchboard-listening', async () => {
  const { createServer } = await import('@switchboard/server')
  const [hookUrl, redisUrl, prefix] = process.argv.slice(2)
  const server = createServer({
    server: { host: '127.0.0.1', port: 0 },
    storage: { type: 'memory' },
    log: { level: 'silent' },
    limits: { messagesPerSecond: 1_000_000, maxConnectionsPerIp: 1_000_000, connectsPerSecond: 0 },
    hooks:
      hookUrl && hookUrl !== '-'
        ? { url: hookUrl, secret: 'bench-hook-secret', graceMs: 0, events: ['occupied', 'vacated'] }
        : { graceMs: 0 },
    ...(redisUrl ? { engine: { type: 'redis', url: redisUrl, prefix } } : {}),
  })
  const changes = { occupied: 0, vacated: 0 }
  server.on('occupied', () => changes.occupied++)
  server.on('vacated', () => changes.vacated++)
  const { port } = await server.listen()
  return { port, stats: () => ({ ...changes }), close: () => server.close() }
})
