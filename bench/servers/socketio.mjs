// socket.io baseline: websocket transport only (`--polling`: long-polling only), rooms via
// socket.join, io.to(room).emit.
//   client emits 'sub' (room, ack)   → socket.join(room); ack()
//   client emits 'pub' (room, data)  → io.to(room).emit('msg', data)
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { runServer } from './common.mjs'

runServer('socketio', async () => {
  const http = createServer()
  const transports = process.argv.includes('--polling') ? ['polling'] : ['websocket']
  const io = new Server(http, { transports, serveClient: false, perMessageDeflate: false })
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
      }),
  }
})
