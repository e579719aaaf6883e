#!/usr/bin/env node
// Slow consumer, re-proven: while a publisher feeds a channel with many ordinary subscribers, one
// more subscriber (the SDK, with recover: true, behind a TCP proxy) stops reading. The server must
// cut it with SLOW_CONSUMER (4002) once its buffer passes limits.maxBufferedBytes; it must come
// back and recover every message it missed, in order, once; and the ordinary subscribers' p99
// latency must not move.
//   node bench/reliability/slow-consumer.mjs [--subscribers 20] [--rate 200] [--bytes 4096]
//     [--seconds 10] [--buffer 1048576]
// Run `npm run build` first.
import { performance } from 'node:perf_hooks'
import net from 'node:net'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { Switchboard } from '@switchboard/client'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'
import { quantile, round, sleep, within } from './stats.mjs'

const opts = parseOptions({ subscribers: 20, rate: 200, bytes: 4096, seconds: 10, buffer: 1024 * 1024 })
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

const config = {
  channels: { 'slow/**': { history: { size: 1_000_000, ttl: '10m' } } },
  limits: { maxBufferedBytes: opts.buffer, messagesPerSecond: 1_000_000, maxConnectionsPerIp: 0, connectsPerSecond: 0 },
}
const server = await startChild(fileURLToPath(new URL('./server.mjs', import.meta.url)), {
  args: [JSON.stringify(config)],
  name: 'slow-server',
})
const port = server.info.port
const now = () => performance.timeOrigin + performance.now()
const STAMP = /"stamp":([0-9.]+)/g

async function raw() {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  ws.send('{"t":"hello","id":0,"v":1}')
  return ws
}

// Ordinary subscribers record the latency of every publication.
let phase = 'warmup'
const latency = { baseline: [], stalled: [] }
/** Close codes of ordinary subscribers the server cut (there should be none). */
const ordinaryClosed = []
const subscribers = await Promise.all(
  Array.from({ length: opts.subscribers }, async () => {
    const ws = await raw()
    // Read only the stamps, not the whole JSON: the load generator must not be what is measured.
    ws.on('message', (data) => {
      const text = data.toString()
      const at = now()
      if (latency[phase]) for (const m of text.matchAll(STAMP)) latency[phase].push(at - Number(m[1]))
      if (text.includes('"t":"ping"')) ws.send('{"t":"pong"}') // answer the heartbeat, as the SDK does
    })
    ws.on('close', (code) => ordinaryClosed.push(code))
    ws.send('{"t":"sub","id":1,"ch":"slow/feed"}')
    return ws
  }),
)

// The slow one: the SDK behind a proxy whose reading from the server can be stopped.
const pairs = new Set()
let stalled = false
const proxy = net.createServer((client) => {
  const upstream = net.connect(port, '127.0.0.1')
  pairs.add(upstream)
  client.pipe(upstream)
  upstream.pipe(client)
  if (stalled) upstream.pause()
  const end = () => {
    pairs.delete(upstream)
    client.destroy()
    upstream.destroy()
  }
  client.on('close', end).on('error', end)
  upstream.on('close', end).on('error', end)
})
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
const slow = new Switchboard(`http://127.0.0.1:${proxy.address().port}`, {
  reconnect: { minDelayMs: 100, maxDelayMs: 1000 },
})
const slowErrors = []
slow.on('error', (e) => slowErrors.push(e.code))
await slow.connect()
const slowGot = []
const sub = slow.subscribe('slow/feed', (d) => slowGot.push(d.n), { recover: true })
await sub.ready

// The publisher: `rate` publications a second, each stamped with its send time.
const publisher = await raw()
const pad = 'x'.repeat(Math.max(0, opts.bytes - 60))
let n = 0
let publishing = true
const feeding = (async () => {
  const interval = 1000 / opts.rate
  let next = performance.now()
  while (publishing) {
    publisher.send(JSON.stringify({ t: 'pub', id: ++n, ch: 'slow/feed', d: { n, stamp: now(), pad } }))
    next += interval
    const wait = next - performance.now()
    if (wait > 1) await sleep(wait)
    else if (n % 50 === 0) await sleep(0)
  }
})()

await sleep(2000)
phase = 'baseline'
await sleep(opts.seconds * 1000)
phase = 'stalled'
const firstMissed = slowGot.length
stalled = true
for (const upstream of pairs) upstream.pause()
const stallAt = performance.now()
// The cut, as the server sees it: one connection fewer (the client only sees it once it reads again).
const before = await server.call('connections')
let cutAfterMs
while (performance.now() - stallAt < 120_000) {
  if ((await server.call('connections')) < before) {
    cutAfterMs = performance.now() - stallAt
    break
  }
  await sleep(50)
}
await sleep(opts.seconds * 1000)
phase = 'after'
const recovered = new Promise((resolve) => sub.on('recovered', resolve))
stalled = false
for (const upstream of pairs) upstream.resume()
const rec = await within(recovered, 60_000, 'recovery')
publishing = false
await feeding
const last = n
const until = Date.now() + 30_000
while (slowGot[slowGot.length - 1] !== last && Date.now() < until) await sleep(50)
const expected = Array.from({ length: last }, (_, i) => i + 1)
const exact = slowGot.length === expected.length && slowGot.every((x, i) => x === expected[i])

console.log(
  JSON.stringify(
    {
      machineLoadAverage: os.loadavg().map((x) => round(x, 2)),
      subscribers: opts.subscribers,
      ratePerSecond: opts.rate,
      bytes: opts.bytes,
      maxBufferedBytes: opts.buffer,
      ordinarySubscribers: {
        baseline: {
          samples: latency.baseline.length,
          p50Ms: round(quantile(latency.baseline, 0.5), 2),
          p99Ms: round(quantile(latency.baseline, 0.99), 2),
        },
        cut: ordinaryClosed,
        whileOneStalls: {
          samples: latency.stalled.length,
          p50Ms: round(quantile(latency.stalled, 0.5), 2),
          p99Ms: round(quantile(latency.stalled, 0.99), 2),
        },
      },
      slowConsumer: {
        errorsReported: slowErrors,
        cutByTheServerAfterMs: cutAfterMs === undefined ? 'not within 120 s' : round(cutAfterMs),
        receivedBeforeStall: firstMissed,
        recovered: rec,
        everyMessageOnceInOrder: exact,
        received: slowGot.length,
        published: last,
      },
    },
    null,
    2,
  ),
)
await slow.close()
for (const ws of [...subscribers, publisher]) ws.terminate()
proxy.close()
await server.stop()
process.exit(0)
