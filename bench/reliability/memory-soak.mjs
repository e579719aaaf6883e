#!/usr/bin/env node
// Memory soak: churn of connects, subscribes, publishes and disconnects (default 100 a second,
// each client subscribing to one of 50 channels, publishing once, leaving), with the server's
// heap read after full GCs every 10 s. After the warm-up, heap growth is fitted by least squares
// and reported per 10 minutes (the target: at most 1 MiB per 10 minutes).
//   node bench/reliability/memory-soak.mjs [--perSecond 100] [--warmup 60] [--seconds 600]
// Run `npm run build` first.
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'
import { round, sleep, slope } from './stats.mjs'

const opts = parseOptions({ perSecond: 100, warmup: 60, seconds: 600, channels: 50 })
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

const config = {
  channels: { 'soak/**': { history: { size: 100, ttl: '1m' } } },
  limits: { maxConnectionsPerIp: 0, connectsPerSecond: 0 },
}
const server = await startChild(fileURLToPath(new URL('./server.mjs', import.meta.url)), {
  args: [JSON.stringify(config)],
  execArgv: ['--expose-gc'],
  name: 'soak-server',
})
const url = `ws://127.0.0.1:${server.info.port}/ws`

let done = 0
let failed = 0
/** One client's life: hello, subscribe, publish (answered), leave. */
function life(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url)
    const ch = `soak/${i % opts.channels}`
    const timer = setTimeout(() => {
      failed++
      ws.terminate()
      resolve()
    }, 10_000)
    ws.on('open', () => {
      ws.send('{"t":"hello","id":0,"v":1}')
      ws.send(JSON.stringify({ t: 'sub', id: 1, ch }))
      ws.send(JSON.stringify({ t: 'pub', id: 2, ch, d: { i, at: Date.now() } }))
    })
    ws.on('message', (data) => {
      const v = JSON.parse(data.toString())
      for (const m of Array.isArray(v) ? v : [v]) {
        if (m.t === 'ok' && m.id === 2) {
          clearTimeout(timer)
          done++
          ws.close()
          resolve()
        }
      }
    })
    ws.on('error', () => {})
  })
}

const total = opts.warmup + opts.seconds
const samples = []
let running = true
const churn = (async () => {
  let i = 0
  const start = performance.now()
  while (running) {
    const lives = []
    for (let k = 0; k < opts.perSecond; k++) lives.push(life(i++))
    const next = start + (i / opts.perSecond) * 1000
    await sleep(Math.max(0, next - performance.now()))
    void Promise.all(lives)
  }
})()
const t0 = performance.now()
while ((performance.now() - t0) / 1000 < total) {
  await sleep(10_000)
  const s = (performance.now() - t0) / 1000
  const heap = await server.call('heap', {}, 120_000)
  samples.push({ s, ...heap })
  console.error(`t=${round(s)}s heap=${round(heap.heapUsed / 1048576, 2)} MiB rss=${round(heap.rss / 1048576, 1)} MiB`)
}
running = false
await churn

const after = samples.filter((x) => x.s > opts.warmup)
const perSecondBytes = slope(
  after.map((x) => x.s),
  after.map((x) => x.heapUsed),
)
console.log(
  JSON.stringify(
    {
      perSecond: opts.perSecond,
      warmupSeconds: opts.warmup,
      measuredSeconds: opts.seconds,
      clientLives: done,
      failed,
      heapAfterWarmupMiB: round(after[0].heapUsed / 1048576, 2),
      heapAtEndMiB: round(after[after.length - 1].heapUsed / 1048576, 2),
      heapGrowthPer10MinMiB: round((perSecondBytes * 600) / 1048576, 3),
      rssAtEndMiB: round(after[after.length - 1].rss / 1048576, 1),
    },
    null,
    2,
  ),
)
await server.stop()
process.exit(0)
