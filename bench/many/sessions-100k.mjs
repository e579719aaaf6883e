#!/usr/bin/env node
// 100,000 sessions in one process without sockets: what the server itself spends on that many
// connections, apart from the kernel and the WebSocket library (which need one file descriptor
// each: bench/run.mjs --only many-idle measures those, as far as `ulimit -n` allows).
//
// Each session comes over the in-memory transport (the same Session, registry sweep, channel
// index and flush scheduler as a WebSocket connection), says hello and subscribes to a channel of
// its own; its peer answers every ping in the same process. Then:
//   - heap per session (after GC, before vs after);
//   - the sweep with nothing due (every --interval / 2 s at most once a second): CPU over --window s;
//   - the same with the heartbeat interval at --interval s: CPU per ping, in-process part only.
// Usage: node --expose-gc bench/many/sessions-100k.mjs [--sessions 100000] [--interval 10] [--window 20]
import { performance } from 'node:perf_hooks'
import { parseOptions } from '../lib/options.mjs'

const opts = parseOptions({ sessions: 100_000, interval: 10, window: 20 })
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const { createServer, createMemoryTransport } = await import('@switchboard/server')

async function heap() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc()
    await sleep(50)
  }
  return process.memoryUsage()
}

async function run(heartbeat) {
  const server = createServer({
    storage: { type: 'memory' },
    log: { level: 'silent' },
    server: { heartbeat },
    limits: { maxConnectionsPerIp: 0 },
  })
  await server.ready
  const before = await heap()
  let pings = 0
  let welcomed = 0
  const peers = []
  for (let i = 0; i < opts.sessions; i++) {
    const { transport, peer } = createMemoryTransport()
    transport.sink = server.accept(transport)
    peer.onFrame = (f) => {
      if (f.includes('"t":"ping"')) {
        pings++
        peer.send('{"t":"pong"}')
      }
      if (f.includes('"t":"welcome"')) welcomed++
    }
    peer.send(`{"t":"hello","id":1,"v":1}`)
    peer.send(`{"t":"sub","id":2,"ch":"idle/${i}"}`)
    peers.push(peer)
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
  }
  const deadline = Date.now() + 60_000
  while (welcomed < opts.sessions && Date.now() < deadline) await sleep(50)
  const after = await heap()
  // Let the first round of pings (all due together) pass, then measure a steady window.
  await sleep(Math.min(heartbeat.intervalMs + 2000, 15_000))
  const p0 = pings
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await sleep(opts.window * 1000)
  const c = process.cpuUsage(c0)
  const ms = performance.now() - t0
  const n = pings - p0
  for (const p of peers) p.close()
  await server.close()
  return {
    sessions: welcomed,
    heapKiBPerSession: (after.heapUsed + after.external - before.heapUsed - before.external) / 1024 / welcomed,
    cpuPct: ((c.user + c.system) / 1000 / ms) * 100,
    pingsPerSec: n / (ms / 1000),
    cpuUsPerPing: n > 0 ? (c.user + c.system) / n : null,
  }
}

const quiet = await run({ intervalMs: 3_600_000, timeoutMs: 7_200_000 })
console.log(
  `${quiet.sessions} sessions: heap+external ${quiet.heapKiBPerSession.toFixed(2)} KiB per session; ` +
    `sweep with nothing due: ${quiet.cpuPct.toFixed(2)}% of a core`,
)
const hb = await run({ intervalMs: opts.interval * 1000, timeoutMs: opts.interval * 3000 })
console.log(
  `heartbeats every ${opts.interval} s: ${hb.pingsPerSec.toFixed(0)} pings/s, ${hb.cpuPct.toFixed(2)}% of a core, ` +
    `${hb.cpuUsPerPing?.toFixed(2)} µs per ping (in-process part: sweep, ping, pong parsing; no sockets)`,
)
process.exit(0)
