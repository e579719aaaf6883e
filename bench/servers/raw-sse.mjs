// The SSE floor: the least a Node server can do to relay the raw protocol of raw-ws.mjs over
// Server-Sent Events down and `POST /send` up, speaking just enough of Switchboard's fallback
// wire (POST /connect → {session, ticket}; GET /sse?ticket= → `event: ready`, then `data:`
// events; POST /send {seq, frames} → 204) for the bench's own SSE client to drive it:
//   client → {"t":"sub","id":1,"ch":"room"}          server → {"t":"ok","id":1}
//   client → {"t":"pub","ch":"room","d":{...}}        (no ack beyond the POST's 204)
//   server → {"t":"msg","ch":"room","d":{...}}        to every subscriber of the room
// Like raw-ws.mjs it serialises a publication once, frames it once (here: as one HTTP/1.1 chunk
// holding the `data:` event) and writes the same bytes to every subscriber's socket. No auth,
// no sequence checks, no validation, no limits: a floor, not a server.
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { runServer } from './common.mjs'

const chunk = (event) => {
  const body = Buffer.from(event)
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')])
}

runServer('sse', async () => {
  const rooms = new Map() // room -> Set<session>
  const sessions = new Map() // session id -> { socket, rooms }
  const tickets = new Map() // ticket -> session

  const deliver = (session, text) => {
    if (session.socket && !session.socket.destroyed) session.socket.write(chunk(`data: ${text}\n\n`))
  }
  const publish = (ch, d) => {
    const set = rooms.get(ch)
    if (!set) return
    const frame = chunk(`data: ${JSON.stringify({ t: 'msg', ch, d })}\n\n`)
    for (const s of set) if (s.socket && !s.socket.destroyed) s.socket.write(frame)
  }
  const leave = (session) => {
    for (const room of session.rooms) {
      const set = rooms.get(room)
      set?.delete(session)
      if (set?.size === 0) rooms.delete(room)
    }
    sessions.delete(session.id)
  }
  const onFrame = (session, text) => {
    const msg = JSON.parse(text)
    if (msg.t === 'pub') publish(msg.ch, msg.d)
    else if (msg.t === 'sub') {
      let set = rooms.get(msg.ch)
      if (!set) rooms.set(msg.ch, (set = new Set()))
      set.add(session)
      session.rooms.push(msg.ch)
      deliver(session, JSON.stringify({ t: 'ok', id: msg.id }))
    }
  }
  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const chunks = []
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => resolve(Buffer.concat(chunks).toString()))
      req.on('error', reject)
    })

  const server = http.createServer(async (req, res) => {
    const url = req.url ?? '/'
    if (req.method === 'POST' && url === '/send') {
      const body = JSON.parse(await readBody(req))
      const session = sessions.get(req.headers['x-switchboard-session'])
      if (!session) return res.writeHead(404).end()
      if (body.close) leave(session)
      else for (const f of body.frames) onFrame(session, f)
      return res.writeHead(204, { 'cache-control': 'no-store' }).end()
    }
    if (req.method === 'POST' && url === '/connect') {
      await readBody(req)
      const session = { id: randomBytes(12).toString('base64url'), socket: null, rooms: [] }
      const ticket = randomBytes(12).toString('base64url')
      sessions.set(session.id, session)
      tickets.set(ticket, session)
      const text = JSON.stringify({ session: session.id, ticket })
      return res
        .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
        .end(text)
    }
    if (req.method === 'GET' && url.startsWith('/sse?ticket=')) {
      const session = tickets.get(url.slice('/sse?ticket='.length))
      if (!session) return res.writeHead(404).end()
      tickets.delete(url.slice('/sse?ticket='.length))
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write('event: ready\ndata: {}\n\n')
      // From here on events go straight to the connection as HTTP chunks (as Switchboard does).
      session.socket = res.socket
      res.on('close', () => leave(session))
      return
    }
    res.writeHead(404).end()
  })
  await new Promise((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
    server.listen(0, '127.0.0.1')
  })
  return {
    port: server.address().port,
    info: { mode: 'SSE down + POST /send up; pre-framed chunk, socket.write per subscriber' },
    stats: () => ({ clients: sessions.size, rooms: rooms.size }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
})
