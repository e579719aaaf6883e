// socket.io baseline: websocket transport only (`--polling`: long-polling only), rooms via
// socket.join, io.to(room).emit.
//   client emits 'sub' (room, ack)   → socket.join(room); ack()
//   client emits 'pub' (room, data)  → io.to(room).emit('msg', data)
// `--redis=<url>` (bench/cluster/run.mjs): one node of a cluster joined through Redis, with
// `--adapter=redis` (@socket.io/redis-adapter, pub/sub) or `--adapter=streams`
// (@socket.io/redis-streams-adapter, a Redis stream, with connection state recovery on: the
// combination socket.io documents for recovery across nodes).
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { runServer } from './common.mjs'

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)

/** The adapter option and a closer for its Redis clients (none without --redis). */
async function clusterAdapter() {
  const url = arg('redis')
  if (!url) return { options: {}, close: async () => {} }
  const { createClient } = await import('redis')
  const kind = arg('adapter') ?? 'redis'
  const pub = createClient({ url })
  pub.on('error', () => {})
  await pub.connect()
  if (kind === 'redis') {
    const { createAdapter } = await import('@socket.io/redis-adapter')
    const sub = pub.duplicate()
    sub.on('error', () => {})
    await sub.connect()
    return {
      options: { adapter: createAdapter(pub, sub) },
      close: async () => Promise.allSettled([pub.quit(), sub.quit()]),
    }
  }
  if (kind === 'streams') {
    const { createAdapter } = await import('@socket.io/redis-streams-adapter')
    return {
      options: { adapter: createAdapter(pub), connectionStateRecovery: {} },
      close: async () => Promise.allSettled([pub.quit()]),
    }
  }
  throw new Error(`unknown --adapter=${kind} (redis or streams)`)
}

runServer('socketio', async () => {
  const http = createServer()
  const transports = process.argv.includes('--polling') ? ['polling'] : ['websocket']
  const adapter = await clusterAdapter()
  const io = new Server(http, { transports, serveClient: false, perMessageDeflate: false, ...adapter.options })
  io.on('connection', (socket) => {
    socket.on('sub', (room, ack) => {
      socket.join(room)
      if (typeof ack === 'function') ack()
    })
    socket.on('pub', (room, data) => {
      io.to(room).emit('msg', data)
    })
  })
  await new Promise((resolve, reject) => {
    http.once('error', reject)
    http.listen(0, '127.0.0.1', resolve)
  })
  return {
    port: http.address().port,
    stats: () => ({ clients: io.engine.clientsCount }),
    close: () =>
      new Promise((resolve) => {
        io.disconnectSockets(true)
        io.close(() => resolve())
      }).then(() => adapter.close()),
  }
})
