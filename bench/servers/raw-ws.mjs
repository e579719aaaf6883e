// Raw `ws` baseline. Protocol (JSON text frames), deliberately close to Switchboard's:
//   client → {"t":"sub","id":1,"ch":"room"}          server → {"t":"ok","id":1}
//   client → {"t":"pub","ch":"room","d":{...}}        (no ack; fire and forget)
//   server → {"t":"msg","ch":"room","d":{...}}        to every subscriber of the room
// Default mode: serialise once, frame once (Sender.frame), write the same bytes to
// every subscriber's socket: the practical limit for a Node fan-out. `--send`: the code most
// people write, `client.send(jsonString)` per subscriber (ws re-encodes and re-frames each time).
// `--hello` (the `ws-hello` row of the connect scenarios): also answers a Switchboard-style
// `{"t":"hello","id":n}` with `{"t":"welcome","id":n}`, so a connect is the same round trip as
// Switchboard's (upgrade, then one frame each way) with nothing else: the floor of that protocol.
import { WebSocketServer, WebSocket, Sender } from 'ws'
import { runServer } from './common.mjs'

const perClientSend = process.argv.includes('--send')
const hello = process.argv.includes('--hello')

runServer(perClientSend ? 'ws-send' : hello ? 'ws-hello' : 'ws', async () => {
  const rooms = new Map() // room -> Set<WebSocket>
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  await new Promise((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })

  const leave = (ws) => {
    if (!ws.rooms) return
    for (const room of ws.rooms) {
      const set = rooms.get(room)
      if (set) {
        set.delete(ws)
        if (set.size === 0) rooms.delete(room)
      }
    }
  }

  const publish = (ch, d) => {
    const set = rooms.get(ch)
    if (!set) return
    const json = JSON.stringify({ t: 'msg', ch, d })
    if (perClientSend) {
      for (const client of set) if (client.readyState === WebSocket.OPEN) client.send(json)
      return
    }
    const payload = Buffer.from(json)
    const parts = Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false })
    const frame = parts.length === 1 ? parts[0] : Buffer.concat(parts)
    for (const client of set) if (client.readyState === WebSocket.OPEN) client._socket.write(frame)
  }

  wss.on('connection', (ws) => {
    ws.on('error', () => {})
    ws.on('close', () => leave(ws))
    ws.on('message', (data) => {
      let msg
      try {
        msg = JSON.parse(data)
      } catch {
        return
      }
      if (msg.t === 'pub') publish(msg.ch, msg.d)
      else if (hello && msg.t === 'hello') ws.send(JSON.stringify({ t: 'welcome', id: msg.id }))
      else if (msg.t === 'sub') {
        let set = rooms.get(msg.ch)
        if (!set) rooms.set(msg.ch, (set = new Set()))
        set.add(ws)
        ;(ws.rooms ??= []).push(msg.ch)
        ws.send(JSON.stringify({ t: 'ok', id: msg.id }))
      }
    })
  })

  return {
    port: wss.address().port,
    info: {
      mode: perClientSend ? 'ws.send(string) per subscriber' : 'pre-framed, socket.write per subscriber',
      ...(hello ? { hello: 'answers hello with welcome' } : {}),
    },
    stats: () => ({ clients: wss.clients.size, rooms: rooms.size }),
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  }
})
