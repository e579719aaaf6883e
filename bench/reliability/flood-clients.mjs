// A load-generator process of flood.mjs: clients `from`..`to` of the flood, each opened at its
// moment of the flood from its loopback address, refused ones coming back as the SDK does (the
// server's hint plus up to 250 ms of jitter). Times are wall-clock ms (the same in every process).
// IPC: flood (returns when every client is in or the deadline passed), subscribe, got.
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { serveIpc } from '../lib/ipc.mjs'
import { sleep } from './stats.mjs'

const wall = () => performance.timeOrigin + performance.now()
const admitted = []
let got = 0

/** One attempt: the welcome (admitted), or the refusal the server gave. */
function attempt(wsUrl, localAddress) {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, { localAddress })
    let first
    const timer = setTimeout(() => {
      ws.terminate()
      resolve({ kind: 'timeout' })
    }, 30_000)
    ws.on('open', () => ws.send('{"t":"hello","id":0,"v":1}'))
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString())
      first ??= m
      // An admitted client answers the server's heartbeat, as the SDK does.
      for (const x of Array.isArray(m) ? m : [m]) if (x.t === 'ping') ws.send('{"t":"pong"}')
      if (first.t === 'welcome') {
        clearTimeout(timer)
        resolve({ kind: 'admitted', ws })
      }
    })
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer)
      resolve({
        kind: 'refused',
        code: `HTTP ${res.statusCode}`,
        retryAfterMs: Number(res.headers['retry-after'] ?? 1) * 1000,
      })
      ws.terminate()
    })
    ws.on('error', (err) => {
      clearTimeout(timer)
      resolve({ kind: 'error', code: err.code ?? err.message })
    })
    ws.on('close', (code) => {
      clearTimeout(timer)
      if (first?.t === 'err')
        resolve({ kind: 'refused', code: first.code, close: code, retryAfterMs: first.data?.retryAfterMs })
      else resolve({ kind: 'error', code: `close ${code}` })
    })
  })
}

serveIpc({
  async flood({ wsUrl, from, to, connections, seconds, addresses, start, deadline }) {
    const address = (i) => {
      const n = (i % addresses) + 1
      return `127.0.${n >> 8}.${n & 255}`
    }
    const refusals = {}
    const admittedAt = []
    /** Each admitted client's `address:port`: with --workers, which worker holds it is looked up by it. */
    const admittedFrom = []
    const perAddress = {}
    let attempts = 0
    const client = async (i) => {
      await sleep(start + (i * seconds * 1000) / connections - wall())
      const localAddress = address(i)
      while (wall() < deadline) {
        attempts++
        const r = await attempt(wsUrl, localAddress)
        if (r.kind === 'admitted') {
          admittedAt.push(wall())
          admittedFrom.push(`${localAddress}:${r.ws._socket.localPort}`)
          perAddress[localAddress] = (perAddress[localAddress] ?? 0) + 1
          admitted.push(r.ws)
          return
        }
        refusals[r.code] = (refusals[r.code] ?? 0) + 1
        await sleep((r.retryAfterMs ?? 1000) + Math.random() * 250)
      }
    }
    await Promise.all(Array.from({ length: to - from }, (_, k) => client(from + k)))
    return { admittedAt, admittedFrom, perAddress, refusals, attempts, admitted: admitted.length }
  },
  /** Subscribes every admitted client to one of ten channels; resolves once all are answered. */
  async subscribe() {
    await Promise.all(
      admitted.map(
        (ws, i) =>
          new Promise((resolve) => {
            ws.on('message', (d) => {
              const m = JSON.parse(d.toString())
              for (const x of Array.isArray(m) ? m : [m]) {
                if (x.t === 'ok' && x.id === 1) resolve()
                if (x.t === 'msg') got++
              }
            })
            ws.on('close', resolve) // counted as not working: it gets no publication
            ws.send(JSON.stringify({ t: 'sub', id: 1, ch: `flood/${i % 10}` }))
          }),
      ),
    )
    return admitted.length
  },
  got: () => got,
  stop: () => {
    for (const ws of admitted) ws.terminate()
    setImmediate(() => process.exit(0))
  },
})
process.send?.({ type: 'ready' })
