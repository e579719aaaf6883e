// socket.io RPC relay with emit-with-ack on both legs, the way socket.io apps relay requests:
//   provider: emit('provide', name, ack)
//   caller:   emit('call', name, args, ack) → server: provider.emit('invoke', name, args, (r) => ack(r))
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { runServer } from '../../servers/common.mjs'

runServer('rpc-socketio', async () => {
  const http = createServer()
  const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false })
  const pools = new Map() // name -> { list: Socket[], next }
  io.on('connection', (socket) => {
    socket.on('provide', (name, ack) => {
      let pool = pools.get(name)
      if (!pool) pools.set(name, (pool = { list: [], next: 0 }))
      pool.list.push(socket)
      if (typeof ack === 'function') ack()
    })
    socket.on('call', (name, args, ack) => {
      const pool = pools.get(name)
      if (!pool || pool.list.length === 0) return ack({ error: 'NO_PROVIDER' })
      const provider = pool.list[pool.next++ % pool.list.length]
      provider.emit('invoke', name, args, (result) => ack(result))
    })
    socket.on('disconnect', () => {
      for (const pool of pools.values()) {
        const i = pool.list.indexOf(socket)
        if (i >= 0) pool.list.splice(i, 1)
      }
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
      }),
  }
})
