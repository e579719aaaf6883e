#!/usr/bin/env node
// Rolling deploy on Redis: three `switchboard start` processes joined through the Redis engine;
// clients subscribed with recover: true (each lists all three nodes, starting at a different
// one); a publisher at a steady rate; every node restarted in turn (SIGTERM, wait for it to exit,
// start it again, wait until it is ready). The ledger: every acknowledged publication of a
// client's channel delivered to it exactly once, in order; clients stranded at the end; the time from each
// node's SIGTERM until its clients had resubscribed (and recovered); the peak connect rate.
//   node bench/reliability/rolling-deploy.mjs [--clients 2000] [--rate 200] [--window 2000]
//     [--workers 3] [--burst 1] [--channels 1] [--transports websocket,sse,longpoll]
//     [--redis redis://127.0.0.1:6379]
// --burst n: the publisher sends n publications at a time, every n/rate seconds (same rate).
// --channels n: clients spread round-robin over n channels, the publisher's publications too
// (each client receives rate/n a second: 2,000 clients × 200/s on one channel is 400,000
// deliveries a second, a capacity test of its own; on 20 channels it is 20,000).
// Needs a Redis server. Run `npm run build` first.
import { performance } from 'node:perf_hooks'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Switchboard } from '@switchboard/client'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'
import { dropKeys } from '../lib/redis-keys.mjs'
import { quantile, round, sleep } from './stats.mjs'

const opts = parseOptions({
  clients: 2000,
  rate: 200,
  window: 2000,
  workers: 3,
  burst: 1,
  channels: 1,
  transports: '',
  redis: 'redis://127.0.0.1:6379',
  settle: 3,
})
/** Wall-clock ms with sub-ms precision: the same clock in every process. */
const wall = () => performance.timeOrigin + performance.now()
const CLI = fileURLToPath(new URL('../../packages/cli/bin/switchboard.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sb-roll-'))
const nodes = []
const cleanup = () => {
  killAllChildren()
  for (const n of nodes) n.child?.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
const configFile = join(dir, 'switchboard.yaml')
const REDIS_PREFIX = `sb-roll-${process.pid}:`
// JSON is YAML: no YAML library needed here.
writeFileSync(
  configFile,
  JSON.stringify({
    engine: { type: 'redis', url: opts.redis, prefix: REDIS_PREFIX },
    storage: { type: 'memory' },
    channels: { 'roll/**': { history: { size: 1_000_000, ttl: '10m' } } },
    server: { drain: { windowMs: opts.window } },
    limits: { maxConnectionsPerIp: 0, messagesPerSecond: 100_000 },
    log: { level: 'warn' },
  }),
)

async function startNode(node) {
  node.child = spawn(
    process.execPath,
    [CLI, 'start', '--port', String(node.port), '--host', '127.0.0.1', '--config', configFile],
    {
      cwd: dir,
      env: { ...process.env, NODE_ENV: 'development' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  node.child.stderr.on('data', () => {})
  node.exited = new Promise((resolve) => node.child.on('exit', (code) => resolve(code)))
  const until = Date.now() + 30_000
  for (;;) {
    const r = await fetch(`${node.url}/readyz`).catch(() => undefined)
    if (r?.status === 200) return
    if (Date.now() > until) throw new Error(`node on ${node.port} not ready`)
    await sleep(100)
  }
}
for (let i = 0; i < 3; i++) {
  const port = await freePort()
  nodes.push({ port, url: `http://127.0.0.1:${port}` })
}
await Promise.all(nodes.map(startNode))
const urls = nodes.map((n) => n.url)

// Clients, in `--workers` load-generator processes (one process cannot parse 2,000 × 200
// deliveries a second), each with its ledger and its timeline.
const per = Math.ceil(opts.clients / opts.workers)
const workers = await Promise.all(
  Array.from({ length: opts.workers }, (_, w) =>
    startChild(fileURLToPath(new URL('./rolling-clients.mjs', import.meta.url)), { name: `clients-${w}` }),
  ),
)
await Promise.all(
  workers.map((w, k) =>
    w.call(
      'start',
      {
        urls,
        count: Math.max(0, Math.min(per, opts.clients - k * per)),
        offset: k * per,
        channels: opts.channels,
        transports: opts.transports ? opts.transports.split(',') : undefined,
      },
      120_000,
    ),
  ),
)

// Each node's connection count, sampled: its rise over any second bounds its connects a second
// from below (a node that takes clients over loses none meanwhile).
const samples = nodes.map(() => [])
let sampling = true
const sampler = (async () => {
  while (sampling) {
    await Promise.all(
      nodes.map(async (n, k) => {
        const text = await fetch(`${n.url}/metrics`)
          .then((r) => r.text())
          .catch(() => '')
        const m = /^switchboard_connections\s+(\d+)/m.exec(text)
        if (m) samples[k].push({ t: wall(), n: Number(m[1]) })
      }),
    )
    await sleep(200)
  }
})()

// The publisher: `rate` publications a second, round-robin over the channels (publication n goes
// to channel (n - 1) % channels, its k-th there has the value k); resends after a drop are
// deduplicated by id.
const publisher = new Switchboard([urls[1], urls[2], urls[0]])
publisher.on('error', () => {})
await publisher.connect()
let seq = 0
/** Publications sent to each channel so far. */
const perChannel = new Array(opts.channels).fill(0)
const acked = new Set()
/** The acknowledged values of each channel: what its subscribers must all have, once, in order. */
const ackedPerChannel = Array.from({ length: opts.channels }, () => [])
const failures = []
let publishing = true
const inFlight = new Set()
const feedStart = performance.now()
let feedMs = 0
const feeding = (async () => {
  const start = feedStart
  while (publishing) {
    const n = ++seq
    const channel = (n - 1) % opts.channels
    const value = ++perChannel[channel]
    const p = publisher.publish(`roll/feed-${channel}`, value).then(
      () => {
        acked.add(n)
        ackedPerChannel[channel].push(value)
      },
      (e) => void failures.push(`${n}: ${e.code}`),
    )
    inFlight.add(p)
    void p.finally(() => inFlight.delete(p))
    // `burst` publications leave together, then the publisher waits for the next tick.
    if (n % opts.burst === 0) await sleep(Math.max(0, start + (n / opts.rate) * 1000 - performance.now()))
  }
  feedMs = performance.now() - start
  await Promise.all(inFlight)
})()

await sleep(opts.settle * 1000)
const restarts = []
const t0 = performance.now()
for (const node of nodes) {
  const at = wall()
  node.child.kill('SIGTERM')
  const code = await node.exited
  const stoppedAfter = wall() - at
  await startNode(node)
  restarts.push({
    port: node.port,
    at,
    exitCode: code,
    stoppedAfterMs: round(stoppedAfter),
    backAfterMs: round(wall() - at),
  })
  await sleep(opts.settle * 1000)
}
const deployMs = performance.now() - t0
publishing = false
await feeding

const sortedAcks = ackedPerChannel.map((a) => a.sort((x, y) => x - y))
const reports = await Promise.all(
  workers.map((w) => w.call('collect', { acked: sortedAcks, timeoutMs: 60_000 }, 90_000)),
)
sampling = false
await sampler
const timelines = reports.flatMap((r) => r.timelines)
const connects = reports.flatMap((r) => r.connects)

// Time from a node's SIGTERM to the recovery of each client it dropped.
const toResubscribed = []
const toDropped = []
const dropToResubscribed = []
/** Refusals reported during each move (0: straight to another node). */
const refusalsPerMove = []
const dropToConnected = []
const connectedToRecovered = []
for (const [k, r] of restarts.entries()) {
  const end = restarts[k + 1]?.at ?? Infinity
  for (const c of timelines) {
    const drop = c.drops.find((t) => t >= r.at && t < end)
    if (drop === undefined) continue
    const rec = c.recoveries.find((t) => t >= drop)
    if (rec === undefined) continue
    toResubscribed.push(rec - r.at)
    toDropped.push(drop - r.at)
    dropToResubscribed.push(rec - drop)
    refusalsPerMove.push(c.errors.filter((t) => t >= drop && t <= rec).length)
    const connected = c.connected.find((t) => t >= drop) ?? rec
    dropToConnected.push(connected - drop)
    connectedToRecovered.push(rec - connected)
  }
}
const tStart = t0 + performance.timeOrigin
const perSecond = new Map()
for (const t of connects) {
  if (t < tStart) continue
  const s = Math.floor((t - tStart) / 1000)
  perSecond.set(s, (perSecond.get(s) ?? 0) + 1)
}
/** The largest rise of a node's connection count within any one second. */
const peakRise = (points) => {
  let peak = 0
  for (let i = 0, j = 0; i < points.length; i++) {
    while (points[i].t - points[j].t > 1000) j++
    for (let k = j; k < i; k++) peak = Math.max(peak, points[i].n - points[k].n)
  }
  return peak
}
console.log(
  JSON.stringify(
    {
      clients: opts.clients,
      ratePerSecond: opts.rate,
      channels: opts.channels,
      deliveriesPerSecond: round((opts.clients * opts.rate) / opts.channels),
      publicationsPerBurst: opts.burst,
      clientTransports: opts.transports || 'SDK default',
      drainWindowMs: opts.window,
      deploySeconds: round(deployMs / 1000),
      restarts,
      published: seq,
      publishedPerSecond: round(seq / (feedMs / 1000)),
      acknowledged: acked.size,
      publishFailures: failures.length,
      publishFailureCodes: failures.reduce((m, f) => ((m[f.split(': ')[1]] = (m[f.split(': ')[1]] ?? 0) + 1), m), {}),
      loadGeneratorProcesses: opts.workers,
      clientsWithEveryMessageOnceInOrder: reports.reduce((n, r) => n + r.exact, 0),
      clientsStranded: reports.reduce((n, r) => n + r.stranded, 0),
      // Clients that ended on SSE or long-polling (a WebSocket attempt that timed out on a busy node).
      clientsOnFallbackTransport: reports.reduce((n, r) => n + r.onFallback, 0),
      movedClients: toResubscribed.length,
      sigtermToResubscribedMs: {
        p50: round(quantile(toResubscribed, 0.5)),
        p95: round(quantile(toResubscribed, 0.95)),
        max: round(Math.max(...toResubscribed)),
      },
      // Where the time goes: until the node told the client to go, then until it had recovered.
      sigtermToToldMs: { p50: round(quantile(toDropped, 0.5)), p95: round(quantile(toDropped, 0.95)) },
      toldToResubscribedMs: {
        p50: round(quantile(dropToResubscribed, 0.5)),
        p95: round(quantile(dropToResubscribed, 0.95)),
      },
      // The second part split: until connected to another node, then until recovered.
      toldToConnectedMs: { p50: round(quantile(dropToConnected, 0.5)), p95: round(quantile(dropToConnected, 0.95)) },
      connectedToRecoveredMs: {
        p50: round(quantile(connectedToRecovered, 0.5)),
        p95: round(quantile(connectedToRecovered, 0.95)),
      },
      refusalsPerMove: { p95: quantile(refusalsPerMove, 0.95), max: Math.max(0, ...refusalsPerMove) },
      clientErrors: reports.reduce((m, r) => {
        for (const [k, n] of Object.entries(r.errors)) m[k] = (m[k] ?? 0) + n
        return m
      }, {}),
      peakConnectsPerSecondAllNodes: Math.max(0, ...perSecond.values()),
      // Against the admission limit (limits.connectsPerSecond, 500 by default, plus its burst).
      peakConnectionRiseInASecondPerNode: samples.map(peakRise),
    },
    null,
    2,
  ),
)
await publisher.close()
for (const n of nodes) n.child.kill('SIGTERM')
await Promise.all(nodes.map((n) => n.exited))
await dropKeys(opts.redis, REDIS_PREFIX)
process.exit(0)
