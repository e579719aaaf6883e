// Switchboard, embedded with the in-memory storage and engine (or `--redis=<url>`), no auth (development mode).
// Publishes arrive over the wire from the load generator's publisher connection (`pub` frames).
import { pathToFileURL } from 'node:url'
import { runServer } from './common.mjs'

// `--heartbeat=<intervalMs>,<timeoutMs>`: server.heartbeat (default: Switchboard's own, 10 s / 30 s).
const hbArg = process.argv.find((a) => a.startsWith('--heartbeat='))
const heartbeat = hbArg
  ? (([intervalMs, timeoutMs]) => ({ intervalMs, timeoutMs }))(hbArg.slice(12).split(',').map(Number))
  : undefined

// `--jwt-secret=<secret>`: clients must present an HS256 JWT signed with it (auth.jwt), no anonymous access.
const jwtArg = process.argv.find((a) => a.startsWith('--jwt-secret='))
const auth = jwtArg ? { jwt: { secret: jwtArg.slice(13) }, anonymous: false } : undefined

// `--module=<path>`: another build of the server (bench/run.mjs --base), e.g. an older commit's
// packages/server/dist/index.js, measured beside this one in the same run.
const moduleArg = process.argv.find((a) => a.startsWith('--module='))

// `--redis=<url>`: a cluster node on the Redis engine (bench/cluster/run.mjs) instead of the in-process one.
const redisArg = process.argv.find((a) => a.startsWith('--redis='))

runServer('switchboard', async () => {
  const { createServer } = await import(moduleArg ? pathToFileURL(moduleArg.slice(9)).href : '@switchboard/server')
  const server = createServer({
    server: { host: '127.0.0.1', port: 0, ...(heartbeat ? { heartbeat } : {}) },
    storage: { type: 'memory' },
    log: { level: 'silent' },
    ...(redisArg ? { engine: { type: 'redis', url: redisArg.slice(8) } } : {}),
    ...(auth ? { auth } : {}),
    // All load comes from loopback: no per-IP connection cap (default 100; 0 = none, and then
    // the peer address is not even read), and the single publisher connection of the rooms
    // scenario runs close to the default per-connection rate limit (1000 msg/s). Limits are not
    // what is being measured.
    limits: { messagesPerSecond: 1_000_000, maxConnectionsPerIp: 0, connectsPerSecond: 0 },
  })
  const { port } = await server.listen()
  return {
    port,
    stats: () => ({ connections: server.connectionCount() }),
    close: () => server.close(),
  }
})
