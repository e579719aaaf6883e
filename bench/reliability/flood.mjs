#!/usr/bin/env node
// Flood: many connections opened within seconds from many loopback addresses (127.0.0.0/8).
// The server must stay responsive (/healthz p99), its per-address and admission limits must hold,
// and every admitted client must work. Refused clients come back the way the SDK does: after the
// server's retryAfterMs plus a random jitter.
//   node bench/reliability/flood.mjs [--connections 5000] [--seconds 10] [--addresses 200]
//     [--connectsPerSecond 500] [--perIp 100] [--generators 2]
// The clients live in --generators processes, each under its own `ulimit -n`; the server holds
// every admitted socket in one process, so keep --connections under `ulimit -n` minus its own
// few dozen descriptors (19,900 with the 20,000 here).
// Run `npm run build` first.
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'
import { quantile, round, sleep } from './stats.mjs'

const opts = parseOptions({
  connections: 5000,
  seconds: 10,
  addresses: 200,
  connectsPerSecond: 500,
  perIp: 100,
  generators: 2,
})
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

const config = { limits: { connectsPerSecond: opts.connectsPerSecond, maxConnectionsPerIp: opts.perIp } }
const server = await startChild(fileURLToPath(new URL('./server.mjs', import.meta.url)), {
  args: [JSON.stringify(config)],
  name: 'flood-server',
})
const url = `http://127.0.0.1:${server.info.port}`
const wsUrl = `ws://127.0.0.1:${server.info.port}/ws`

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

// The clients, in `--generators` load-generator processes: one process may hold at most
// `ulimit -n` sockets, and the server needs that many for itself.
const generators = await Promise.all(
  Array.from({ length: opts.generators }, (_, g) =>
    startChild(fileURLToPath(new URL('./flood-clients.mjs', import.meta.url)), { name: `flood-clients-${g}` }),
  ),
)
const wall = () => performance.timeOrigin + performance.now()
const start = wall() + 500
const deadline = start + opts.seconds * 1000 + (opts.connections / opts.connectsPerSecond) * 1000 * 3 + 30_000
const per = Math.ceil(opts.connections / opts.generators)
const reports = await Promise.all(
  generators.map((g, k) =>
    g.call(
      'flood',
      {
        wsUrl,
        from: k * per,
        to: Math.min(opts.connections, (k + 1) * per),
        connections: opts.connections,
        seconds: opts.seconds,
        addresses: opts.addresses,
        start,
        deadline,
      },
      deadline - wall() + 60_000,
    ),
  ),
)
const allInMs = reports.flatMap((r) => r.admittedAt).reduce((a, b) => Math.max(a, b), start) - start
flooding = false
await sampling
const admittedAt = reports.flatMap((r) => r.admittedAt.map((t) => t - start))
const perAddress = new Map()
const refusals = {}
for (const r of reports) {
  for (const [a, n] of Object.entries(r.perAddress)) perAddress.set(a, (perAddress.get(a) ?? 0) + n)
  for (const [c, n] of Object.entries(r.refusals)) refusals[c] = (refusals[c] ?? 0) + n
}
const admitted = reports.reduce((n, r) => n + r.admitted, 0)
const attempts = reports.reduce((n, r) => n + r.attempts, 0)

// Every admitted client works: a publication reaches all of them.
await Promise.all(generators.map((g) => g.call('subscribe', {}, 120_000)))
for (let c = 0; c < 10; c++) await server.call('publish', { channel: `flood/${c}`, data: 'hello' })
const got = async () => (await Promise.all(generators.map((g) => g.call('got')))).reduce((a, b) => a + b, 0)
const until = Date.now() + 20_000
while ((await got()) < admitted && Date.now() < until) await sleep(100)

const perSecond = new Map()
for (const t of admittedAt) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1)
const ms = health.map((h) => h.ms)
const result = {
  connections: opts.connections,
  openedWithinSeconds: opts.seconds,
  addresses: opts.addresses,
  limits: config.limits,
  loadGeneratorProcesses: opts.generators,
  admitted,
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
  admittedClientsThatGotAPublication: await got(),
}
console.log(JSON.stringify(result, null, 2))
await Promise.all(generators.map((g) => g.stop()))
await server.stop()
process.exit(0)
