// A minimal WebSocket client for the load generator: net.Socket with `onread` (one reused read
// buffer, no per-read allocation), a hand-written frame parser, no streams. It exists so that
// thousands of subscribers cost the load-generator process as little CPU as possible and the
// measured latency is the server's, not the client library's. Same bytes on the wire as any
// client: HTTP/1.1 upgrade, masked client frames (all-zero mask key, which RFC 6455 allows).
import net from 'node:net'
import { randomBytes } from 'node:crypto'

const READ_BUFFER = 64 * 1024
// One read buffer for every connection of the process: `onread` hands the bytes over
// synchronously and the parser copies whatever it keeps, so connections never share data. With
// a buffer per connection, 100,000 connections would hold 6 GiB of read buffers.
const SHARED_READ = Buffer.allocUnsafe(READ_BUFFER)
const HANDSHAKE_TIMEOUT_MS = 15000
const ZERO_MASK = Buffer.alloc(4)

function frameHeader(opcode, len) {
  let h
  if (len < 126) {
    h = Buffer.allocUnsafe(6)
    h[1] = 0x80 | len
    ZERO_MASK.copy(h, 2)
  } else if (len < 65536) {
    h = Buffer.allocUnsafe(8)
    h[1] = 0x80 | 126
    h.writeUInt16BE(len, 2)
    ZERO_MASK.copy(h, 4)
  } else {
    h = Buffer.allocUnsafe(14)
    h[1] = 0x80 | 127
    h.writeUInt32BE(0, 2)
    h.writeUInt32BE(len, 6)
    ZERO_MASK.copy(h, 10)
  }
  h[0] = 0x80 | opcode
  return h
}

/**
 * Opens ws://host:port{path}, from `localAddress` when given (any of 127.0.0.0/8 on loopback:
 * each source address has its own ephemeral ports, so 100,000 connections do not run out).
 * Resolves to { send(text), close(), destroy(), closed: Promise }.
 * `onText(string, conn)` gets every complete text message (conn: this connection, usable
 * before the promise resolves, e.g. to answer bytes that arrived with the handshake).
 */
export function connectWs({ host = '127.0.0.1', port, path = '/', onText, onError, localAddress }) {
  return new Promise((resolve, reject) => {
    let state = 0 // 0 handshake, 1 open, 2 closed
    let head = '' // handshake response so far
    let pending = null // unparsed bytes (a copy: the read buffer is reused)
    let fragments = null
    let closedResolve
    const closed = new Promise((r) => (closedResolve = r))
    const key = randomBytes(16).toString('base64')

    const conn = {
      closed,
      send(text) {
        if (state !== 1) return
        const payload = Buffer.from(text)
        socket.cork()
        socket.write(frameHeader(1, payload.length))
        socket.write(payload)
        socket.uncork()
      },
      close() {
        if (state === 1) {
          socket.write(Buffer.concat([frameHeader(8, 2), Buffer.from([0x03, 0xe8])]))
          state = 2
          socket.end()
          // Bounded: a peer that never closes its side is cut.
          setTimeout(() => socket.destroy(), 3000).unref()
        } else socket.destroy()
        return closed
      },
      destroy() {
        socket.destroy()
      },
    }

    const fail = (err) => {
      if (state === 0) {
        state = 2
        clearTimeout(timer)
        socket.destroy()
        reject(err)
      } else onError?.(err)
    }

    const parse = (buf) => {
      let off = 0
      const end = buf.length
      while (end - off >= 2) {
        const b0 = buf[off]
        const b1 = buf[off + 1]
        let len = b1 & 0x7f
        let p = off + 2
        if (len === 126) {
          if (end - p < 2) break
          len = buf.readUInt16BE(p)
          p += 2
        } else if (len === 127) {
          if (end - p < 8) break
          len = buf.readUInt32BE(p) * 2 ** 32 + buf.readUInt32BE(p + 4)
          p += 8
        }
        if (b1 & 0x80) p += 4 // servers do not mask; tolerate it anyway (mask ignored below)
        if (end - p < len) break
        const opcode = b0 & 0x0f
        const fin = (b0 & 0x80) !== 0
        if (opcode === 1 || opcode === 2 || opcode === 0) {
          if (fin && fragments === null) onText(buf.toString('utf8', p, p + len), conn)
          else {
            ;(fragments ??= []).push(Buffer.from(buf.subarray(p, p + len)))
            if (fin) {
              const all = Buffer.concat(fragments)
              fragments = null
              onText(all.toString('utf8'), conn)
            }
          }
        } else if (opcode === 8) {
          if (state === 1) {
            state = 2
            socket.end(frameHeader(8, 0))
          }
        } else if (opcode === 9) {
          const data = buf.subarray(p, p + len)
          socket.cork()
          socket.write(frameHeader(10, data.length))
          if (data.length) socket.write(Buffer.from(data))
          socket.uncork()
        }
        off = p + len
      }
      return off
    }

    const onBytes = (buf) => {
      if (state === 0) {
        head += buf.toString('latin1')
        const i = head.indexOf('\r\n\r\n')
        if (i < 0) {
          if (head.length > 16384) fail(new Error('handshake response too large'))
          return
        }
        if (!/^HTTP\/1\.1 101/.test(head)) return fail(new Error(`upgrade refused: ${head.split('\r\n')[0]}`))
        const rest = Buffer.from(head.slice(i + 4), 'latin1')
        head = ''
        state = 1
        clearTimeout(timer)
        resolve(conn)
        if (rest.length) onBytes(rest)
        return
      }
      if (state === 2 && pending === null && buf.length === 0) return
      let data = buf
      if (pending !== null) {
        data = Buffer.concat([pending, buf])
        pending = null
      }
      const used = parse(data)
      if (used < data.length) pending = Buffer.from(data.subarray(used)) // copy: buf is reused
    }

    const socket = net.connect({
      host,
      port,
      ...(localAddress ? { localAddress } : {}),
      noDelay: true,
      onread: {
        buffer: SHARED_READ,
        callback: (n, buf) => {
          onBytes(buf.subarray(0, n))
          return true
        },
      },
    })
    const timer = setTimeout(() => fail(new Error('handshake timed out')), HANDSHAKE_TIMEOUT_MS)
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      )
    })
    socket.on('error', fail)
    socket.on('close', () => {
      if (state === 0) fail(new Error('closed during handshake'))
      state = 2
      clearTimeout(timer)
      closedResolve()
    })
  })
}
