// Load-side clients for the three servers. Each adapter:
//   connect(port, { onMsg, stats, localAddress }) → Promise<conn>   fully established (raw: open; socket.io: namespace
//                                                       connected; Switchboard: welcome received)
//   subscribe(conn, room) → Promise<void>              resolves on the server's acknowledgement
//   publish(conn, room, d)                             fire and forget (Switchboard's acks are counted)
//   close(conn) → Promise<void>
// `onMsg(room, data)` is called once per delivered publication.
//
// Two families (`--clients`):
//   lean (default): every protocol spoken over the minimal WebSocket client in miniws.mjs —
//                   the same cheap receive path for all three servers, so the load generator
//                   (which shares the 2-core machine) spends as little CPU per delivery as possible;
//                   socket.io is spoken as Engine.IO v4 / Socket.IO v5 packets directly.
//   lib:            the `ws` client library, and the official socket.io-client for socket.io.
import WebSocket from 'ws'
import { io as ioClient } from 'socket.io-client'
import { engineIoPollingTransport, longpollTransport, sseTransport } from './http-transports.mjs'
import { connectWs } from './miniws.mjs'

const HANDSHAKE_TIMEOUT_MS = 15000
const REQUEST_TIMEOUT_MS = 15000

function withTimeout(promise, ms, what) {
  let t
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(t))
}

// ---- transports: text in, text out ------------------------------------------------------------
const leanTransport = {
  async open(port, path, onText, stats, localAddress) {
    const c = await connectWs({ port, path, onText, localAddress, onError: () => stats.errors++ })
    c.close = (
      (close) => () =>
        withTimeout(close(), 5000, 'close').catch(() => c.destroy())
    )(c.close)
    return c
  },
}
const libTransport = {
  open(port, path, onText, stats, localAddress) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
      ...(localAddress ? { localAddress } : {}),
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    })
    return new Promise((resolve, reject) => {
      ws.once('error', reject)
      ws.once('open', () => {
        ws.removeListener('error', reject)
        ws.on('error', () => stats.errors++)
        const conn = {
          send: (s) => ws.send(s),
          close: () =>
            ws.readyState === WebSocket.CLOSED
              ? Promise.resolve()
              : withTimeout(new Promise((r) => (ws.once('close', r), ws.close())), 5000, 'close').catch(() =>
                  ws.terminate(),
                ),
        }
        conn.destroy = () => ws.terminate()
        ws.on('message', (buf) => onText(buf.toString(), conn))
        resolve(conn)
      })
    })
  },
}

// ---- request/acknowledgement bookkeeping ---------------------------------------------------------
function request(conn, id, sendFn, what) {
  const done = new Promise((resolve, reject) => conn.pending.set(id, { resolve, reject }))
  sendFn()
  return withTimeout(done, REQUEST_TIMEOUT_MS, what).finally(() => conn.pending.delete(id))
}
function settle(conn, id, value, error) {
  const p = conn.pending.get(id)
  if (!p) return false
  conn.pending.delete(id)
  if (error) p.reject(error)
  else p.resolve(value)
  return true
}

// ---- raw ws (bench/servers/raw-ws.mjs protocol) ---------------------------------------------------
function rawAdapter(transport) {
  return {
    async connect(port, { onMsg, stats, localAddress }) {
      const conn = { t: null, pending: new Map(), nextId: 1 }
      conn.t = await transport.open(
        port,
        '/',
        (text) => {
          const m = JSON.parse(text)
          if (m.t === 'msg') onMsg(m.ch, m.d)
          else if (m.t === 'ok') settle(conn, m.id, m)
        },
        stats,
        localAddress,
      )
      return conn
    },
    subscribe(conn, room) {
      const id = conn.nextId++
      return request(conn, id, () => conn.t.send(JSON.stringify({ t: 'sub', id, ch: room })), 'subscribe')
    },
    publish(conn, room, d) {
      conn.t.send(JSON.stringify({ t: 'pub', ch: room, d }))
    },
    close: (conn) => conn.t.close(),
    destroy: (conn) => conn.t.destroy(),
  }
}

// ---- Switchboard wire protocol ---------------------------------------------------------------
function switchboardAdapter(transport) {
  const a = {
    async connect(port, { onMsg, stats, localAddress, token }) {
      const conn = { t: null, pending: new Map(), nextId: 1 }
      const handle = (m) => {
        switch (m.t) {
          case 'msg':
            onMsg(m.ch, m.d)
            break
          case 'welcome':
            // As the SDK: over long-polling to a server that hears polls, the next poll answers a ping.
            conn.quietPings = m.hb?.polls === true && transport === longpollTransport
            settle(conn, m.id, m)
            break
          case 'ok':
            if (!settle(conn, m.id, m)) stats.acks++
            break
          case 'err':
            stats.errors++
            stats.lastError ??= `${m.code}: ${m.msg}`
            if (m.id !== undefined) settle(conn, m.id, null, new Error(`${m.code}: ${m.msg}`))
            break
          case 'ping':
            stats.pings++
            if (!conn.quietPings) conn.t?.send('{"t":"pong"}')
            break
        }
      }
      conn.t = await transport.open(
        port,
        '/ws',
        (text, t) => {
          conn.t ??= t
          // Long-polling hands over frames already parsed (its answers are JSON around them).
          const v = typeof text === 'string' ? JSON.parse(text) : text
          if (Array.isArray(v)) for (let i = 0; i < v.length; i++) handle(v[i])
          else handle(v)
        },
        stats,
        localAddress,
      )
      const id = conn.nextId++
      const hello = token === undefined ? { t: 'hello', id, v: 1 } : { t: 'hello', id, v: 1, token }
      await request(conn, id, () => conn.t.send(JSON.stringify(hello)), 'hello')
      return conn
    },
    subscribe(conn, room) {
      const id = conn.nextId++
      return request(conn, id, () => conn.t.send(JSON.stringify({ t: 'sub', id, ch: room })), 'subscribe')
    },
    publish(conn, room, d) {
      // The ack ({"t":"ok","id":n}) is counted in stats.acks, not awaited.
      conn.t.send(JSON.stringify({ t: 'pub', id: conn.nextId++, ch: room, d }))
    },
    close: (conn) => conn.t.close(),
    destroy: (conn) => conn.t.destroy(),
  }
  return a
}

// ---- socket.io, lean: Engine.IO v4 + Socket.IO v5 packets over a plain WebSocket -----------------
//   server → "0{sid,...}" (EIO open); client → "40" (connect namespace /); server → "40{sid}"
//   server → "2" ping; client → "3" pong
//   event "42[name,...args]", event with ack "42<id>[...]", ack "43<id>[...]"
function socketioLeanAdapter(transport) {
  return {
    async connect(port, { onMsg, stats, localAddress }) {
      const conn = { t: null, pending: new Map(), nextId: 1 }
      let connected
      const nsConnected = new Promise((resolve, reject) => (connected = { resolve, reject }))
      conn.t = await transport.open(
        port,
        '/socket.io/?EIO=4&transport=websocket',
        (text, t) => {
          const eio = text.charCodeAt(0)
          if (eio === 52 /* '4' message */) {
            const sio = text.charCodeAt(1)
            if (sio === 50 /* '2' event */) {
              const args = JSON.parse(text.slice(text.indexOf('[')))
              if (args[0] === 'msg') onMsg(args[1]?.room, args[1])
            } else if (sio === 51 /* '3' ack */) {
              const b = text.indexOf('[')
              settle(conn, Number(text.slice(2, b)), JSON.parse(text.slice(b)))
            } else if (sio === 48 /* '0' connect */) connected.resolve()
            else if (sio === 52 /* '4' connect error */) connected.reject(new Error(`socket.io connect error ${text}`))
          } else if (eio === 50 /* '2' ping */) {
            stats.pings++
            t.send('3')
          } else if (eio === 48 /* '0' open */) t.send('40')
        },
        stats,
        localAddress,
      )
      await withTimeout(nsConnected, HANDSHAKE_TIMEOUT_MS, 'socket.io connect')
      return conn
    },
    subscribe(conn, room) {
      const id = conn.nextId++
      return request(conn, id, () => conn.t.send(`42${id}${JSON.stringify(['sub', room])}`), 'subscribe')
    },
    publish(conn, room, d) {
      conn.t.send(`42${JSON.stringify(['pub', room, d])}`)
    },
    close: (conn) => conn.t.close(),
    destroy: (conn) => conn.t.destroy(),
  }
}

// ---- socket.io, official client ---------------------------------------------------------------
const socketioLib = {
  connect(port, { onMsg, stats, localAddress }) {
    const socket = ioClient(`http://127.0.0.1:${port}`, {
      ...(localAddress ? { localAddress } : {}),
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: HANDSHAKE_TIMEOUT_MS,
      perMessageDeflate: false,
    })
    socket.on('msg', (d) => onMsg(d.room, d))
    return new Promise((resolve, reject) => {
      socket.once('connect', () => {
        socket.on('connect_error', () => stats.errors++)
        resolve({ socket })
      })
      socket.once('connect_error', (err) => {
        socket.close()
        reject(err)
      })
    })
  },
  subscribe(conn, room) {
    return withTimeout(
      new Promise((resolve) => conn.socket.emit('sub', room, resolve)),
      REQUEST_TIMEOUT_MS,
      'subscribe',
    )
  },
  publish(conn, room, d) {
    conn.socket.emit('pub', room, d)
  },
  close(conn) {
    conn.socket.close()
    return Promise.resolve()
  },
  destroy(conn) {
    conn.socket.close()
  },
}

export const adapters = {
  lean: {
    raw: rawAdapter(leanTransport),
    switchboard: switchboardAdapter(leanTransport),
    socketio: socketioLeanAdapter(leanTransport),
  },
  lib: { raw: rawAdapter(libTransport), switchboard: switchboardAdapter(libTransport), socketio: socketioLib },
  // The fallback transports: the same protocols over HTTP (http-transports.mjs).
  sse: { switchboard: switchboardAdapter(sseTransport), raw: rawAdapter(sseTransport) },
  longpoll: { switchboard: switchboardAdapter(longpollTransport) },
  polling: { socketio: socketioLeanAdapter(engineIoPollingTransport) },
}
