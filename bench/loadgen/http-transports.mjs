// The HTTP transports for the load generator, with the same shape as the WebSocket ones in
// clients.mjs — `open(port, path, onText, stats)` → `{ send(text), close() }` — so the protocol
// adapters run over them unchanged:
//   sse:      Switchboard's SSE transport (POST /connect, GET /sse?ticket=, POST /send);
//   longpoll: Switchboard's long-polling (POST /connect, GET /poll, POST /send);
//   polling:  Engine.IO v4 long-polling, socket.io's `transports: ['polling']`.
// Lean on purpose, like miniws.mjs: node:http with one keep-alive agent, no client library.
import http from 'node:http'

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
const HOST = '127.0.0.1'

function request(port, method, path, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port, method, path, headers, agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode, text }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const json = { 'content-type': 'application/json' }

async function openSession(port, transport) {
  const r = await request(port, 'POST', '/connect', json, JSON.stringify({ transport }))
  if (r.status !== 200) throw new Error(`POST /connect answered ${r.status}: ${r.text}`)
  return JSON.parse(r.text)
}

/** Numbered POST /send bodies, one in flight at a time; frames sent meanwhile leave together. */
function uplink(port, session, stats) {
  const headers = { ...json, 'x-switchboard-session': session }
  let seq = 1
  let queue = []
  let busy = false
  const post = async () => {
    const frames = queue
    queue = []
    const body = JSON.stringify({ seq, frames })
    seq += frames.length
    try {
      const r = await request(port, 'POST', '/send', headers, body)
      if (r.status !== 204) stats.errors++
    } catch {
      stats.errors++
    }
    if (queue.length > 0) void post()
    else busy = false
  }
  return {
    send(text) {
      queue.push(text)
      if (busy) return
      busy = true
      void Promise.resolve().then(post)
    },
    goodbye: () => request(port, 'POST', '/send', headers, JSON.stringify({ seq, frames: [], close: true })),
  }
}

export const sseTransport = {
  async open(port, _path, onText, stats) {
    const { session, ticket } = await openSession(port, 'sse')
    const up = uplink(port, session, stats)
    let req
    const conn = {
      send: up.send,
      async close() {
        await up.goodbye().catch(() => {})
        req.destroy()
      },
    }
    await new Promise((resolve, reject) => {
      req = http.get({ host: HOST, port, path: `/sse?ticket=${ticket}`, agent }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`GET /sse answered ${res.statusCode}`))
        let buffer = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          buffer += chunk
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const event = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            if (event.startsWith('data: ')) onText(event.slice(6), conn)
            else if (event.startsWith('event: ready')) resolve()
          }
        })
        res.on('error', () => {})
      })
      req.on('error', (err) => {
        stats.errors++
        reject(err)
      })
    })
    return conn
  },
}

export const longpollTransport = {
  async open(port, _path, onText, stats) {
    const { session } = await openSession(port, 'longpoll')
    const up = uplink(port, session, stats)
    let closed = false
    const conn = {
      send: up.send,
      async close() {
        closed = true
        await up.goodbye().catch(() => {})
      },
    }
    void (async () => {
      let received = 0
      while (!closed) {
        let answer
        try {
          const headers = { 'x-switchboard-session': session, 'x-switchboard-ack': String(received) }
          const r = await request(port, 'GET', '/poll', headers)
          if (r.status !== 200) throw new Error(`GET /poll answered ${r.status}`)
          answer = JSON.parse(r.text)
        } catch {
          if (!closed) stats.errors++
          return
        }
        // Frames arrive parsed: the adapters take a parsed value as well as text.
        for (let i = 0; i < answer.frames.length; i++) {
          if (answer.seq + i <= received) continue
          received = answer.seq + i
          onText(answer.frames[i], conn)
        }
        if (answer.close) return
      }
    })()
    return conn
  },
}

/** Engine.IO v4 over HTTP long-polling: packets separated by \x1e, one GET at a time, POSTs up. */
export const engineIoPollingTransport = {
  async open(port, _path, onText, stats) {
    const base = '/socket.io/?EIO=4&transport=polling'
    const first = await request(port, 'GET', base)
    if (first.status !== 200) throw new Error(`Engine.IO handshake answered ${first.status}`)
    const path = `${base}&sid=${JSON.parse(first.text.slice(1)).sid}`
    let queue = []
    let busy = false
    let closed = false
    const post = async () => {
      const body = queue.join('\x1e')
      queue = []
      try {
        const r = await request(port, 'POST', path, { 'content-type': 'text/plain;charset=UTF-8' }, body)
        if (r.status !== 200) stats.errors++
      } catch {
        stats.errors++
      }
      if (queue.length > 0) void post()
      else busy = false
    }
    const conn = {
      send(text) {
        queue.push(text)
        if (busy) return
        busy = true
        void Promise.resolve().then(post)
      },
      async close() {
        closed = true
        conn.send('1') // Engine.IO close
      },
    }
    onText(first.text, conn) // the open packet: the adapter answers with the namespace connect
    void (async () => {
      while (!closed) {
        let r
        try {
          r = await request(port, 'GET', path)
          if (r.status !== 200) throw new Error(`Engine.IO poll answered ${r.status}`)
        } catch {
          if (!closed) stats.errors++
          return
        }
        for (const packet of r.text.split('\x1e')) {
          if (packet === '6') continue // noop
          if (packet === '1') return // closed by the server
          onText(packet, conn)
        }
      }
    })()
    return conn
  },
}
