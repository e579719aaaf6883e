#!/usr/bin/env node
// Flood: many connections opened within seconds from many loopback addresses (127.0.0.0/8).
// The server must stay responsive (/healthz p99), its per-address and admission limits must hold,
// and every admitted client must work. Refused clients come back the way the SDK does: after the
// server's retryAfterMs plus a random jitter.
//   node bench/reliability/flood.mjs [--connections 5000] [--seconds 10] [--addresses 200]
//     [--connectsPerSecond 500] [--perIp 100]
// One process holds every client socket: keep --connections under `ulimit -n` (minus a few hundred).
// Run `npm run build` first.
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'
import { quantile, round, sleep } from './stats.mjs'

const opts = parseOptions({ connections: 5000, seconds: 10, addresses: 200, connectsPerSecond: 500, perIp: 100 })
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

const config = { limits: { connectsPerSecond: opts.connectsPerSecond, maxConnectionsPerIp: opts.perIp } }
const server = await startChild(fileURLToPath(new URL('./server.mjs', import.meta.url)), {
  args: [JSON.stringify(config)],
  name: 'flood-server',
})
const url = `http://127.0.0.1:${server.info.port}`
const wsUrl = `ws://127.0.0.1:${server.info.port}/ws`
const address = (i) => {
  const n = (i % opts.addresses) + 1
  return `127.0.${n >> 8}.${n & 255}`
}

// /healthz, every 25 ms, throughout.
const health = []
let flooding = true
const sampling = (async () => {
  while (flooding) {
    const t = performance.now()
    const r = await fetch(`${url}/healthz`).catch(() => undefined)
    if (r) await r.arrayBuffer()
    health.push({ ms: performance.now() - t, ok: r?.status === 200 })
    await sleep(25)
  }
})()

/** One attempt: the welcome (admitted), or the refusal the server gave. */
function attempt(localAddress) {
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

const start = performance.now()
const deadline = start + opts.seconds * 1000 + (opts.connections / opts.connectsPerSecond) * 1000 * 3 + 30_000
const refusals = {}
const admittedAt = []
const perAddress = new Map()
const admitted = []
let attempts = 0
async function client(i) {
  await sleep((i * opts.seconds * 1000) / opts.connections)
  const localAddress = address(i)
  while (performance.now() < deadline) {
    attempts++
    const r = await attempt(localAddress)
    if (r.kind === 'admitted') {
      admittedAt.push(performance.now() - start)
      perAddress.set(localAddress, (perAddress.get(localAddress) ?? 0) + 1)
      admitted.push(r.ws)
      return
    }
    refusals[r.code] = (refusals[r.code] ?? 0) + 1
    // As the SDK does: the server's hint, plus full jitter on top so a crowd spreads.
    await sleep((r.retryAfterMs ?? 1000) + Math.random() * 250)
  }
}
await Promise.all(Array.from({ length: opts.connections }, (_, i) => client(i)))
const allInMs = performance.now() - start
flooding = false
await sampling

// Every admitted client works: a publication reaches all of them.
let got = 0
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
for (let c = 0; c < 10; c++) await server.call('publish', { channel: `flood/${c}`, data: 'hello' })
const until = Date.now() + 20_000
while (got < admitted.length && Date.now() < until) await sleep(50)

const perSecond = new Map()
for (const t of admittedAt) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1)
const ms = health.map((h) => h.ms)
const result = {
  connections: opts.connections,
  openedWithinSeconds: opts.seconds,
  addresses: opts.addresses,
  limits: config.limits,
  admitted: admitted.length,
  allAdmittedAfterSeconds: round(allInMs / 1000),
  attempts,
  refusals,
  peakAdmittedPerSecond: Math.max(...perSecond.values()),
  maxPerAddress: Math.max(...perAddress.values()),
  healthz: {
    samples: ms.length,
    failed: health.filter((h) => !h.ok).length,
    p50Ms: round(quantile(ms, 0.5)),
    p99Ms: round(quantile(ms, 0.99)),
    maxMs: round(Math.max(...ms)),
  },
  admittedClientsThatGotAPublication: got,
}
console.log(JSON.stringify(result, null, 2))
for (const ws of admitted) ws.terminate()
await server.stop()
process.exit(0)
