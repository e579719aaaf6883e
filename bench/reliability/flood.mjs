#!/usr/bin/env node
// Flood: many connections opened within seconds from many loopback addresses (127.0.0.0/8).
// The server must stay responsive (/healthz p99), its per-address and admission limits must hold,
// and every admitted client must work. Refused clients come back the way the SDK does: after the
// server's retryAfterMs plus a random jitter.
//   node bench/reliability/flood.mjs [--connections 5000] [--seconds 10] [--addresses 200]
//     [--connectsPerSecond 500] [--perIp 100] [--generators 2] [--workers 0] [--redis redis://127.0.0.1:6379]
// The clients live in --generators processes, each under its own `ulimit -n`. By default the
// server is one process holding every admitted socket, so keep --connections under `ulimit -n`
// minus its own few dozen descriptors (19,900 with the 20,000 here). `--workers N` runs it as
// `switchboard start --workers N` instead (N processes on one port, joined through Redis), each
// under its own `ulimit -n`. Every worker is a node with its own admission bucket and per-address
// counts, so together they admit N × connectsPerSecond: the limits are reported per worker (which
// worker holds each client is looked up with `ss -p` after the flood).
// Run `npm run build` first.
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'
import { openDescriptors, socketOwners, startClusterServer } from './cluster-server.mjs'
import { quantile, round, sleep } from './stats.mjs'

const opts = parseOptions({
  connections: 5000,
  seconds: 10,
  addresses: 200,
  connectsPerSecond: 500,
  perIp: 100,
  generators: 2,
  workers: 0,
  redis: 'redis://127.0.0.1:6379',
})
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

const config = { limits: { connectsPerSecond: opts.connectsPerSecond, maxConnectionsPerIp: opts.perIp } }
const server = opts.workers > 0 ? await startWorkers() : await startSingle()
const url = `http://127.0.0.1:${server.port}`
const wsUrl = `ws://127.0.0.1:${server.port}/ws`

/** The default: server.mjs, one process. */
async function startSingle() {
  const child = await startChild(fileURLToPath(new URL('./server.mjs', import.meta.url)), {
    args: [JSON.stringify(config)],
    name: 'flood-server',
  })
  return {
    port: child.info.port,
    pids: () => [String(child.pid)],
    publish: (channel, data) => child.call('publish', { channel, data }),
    stop: () => child.stop(),
  }
}

/** `--workers N`: the CLI's `switchboard start --workers N` on a Redis engine. */
async function startWorkers() {
  const cluster = await startClusterServer({ workers: opts.workers, redis: opts.redis, config, name: 'flood' })
  process.on('exit', cluster.kill)
  return { ...cluster, pids: cluster.workerPids }
}

// Each server process's open descriptors, every 500 ms: how near each gets to its `ulimit -n`.
const serverPids = server.pids()
const peakDescriptors = new Map(serverPids.map((pid) => [pid, 0]))
const descriptorSampler = setInterval(() => {
  for (const pid of serverPids) {
    openDescriptors(pid).then((n) => peakDescriptors.set(pid, Math.max(peakDescriptors.get(pid), n)))
  }
}, 500)

// /healthz, every 25 ms, throughout, in turn on each lane: a kept-alive connection per server
// process (with workers the primary hands each new connection to a worker, so they usually reach
// different workers; which worker holds each is looked up after the flood), and a new connection
// per sample, which waits in the listening socket's accept queue with the flood.
const lanes = [
  ...Array.from({ length: Math.max(1, opts.workers) }, () => ({
    agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    samples: [],
  })),
  { agent: false, samples: [] },
]
const keptAlive = lanes.filter((l) => l.agent)
const freshLane = lanes.find((l) => !l.agent)
const healthz = (lane) =>
  new Promise((resolve) => {
    const t = performance.now()
    const done = (ok) => resolve({ ms: performance.now() - t, ok })
    const req = http.get(`${url}/healthz`, { agent: lane.agent, timeout: 30_000 }, (res) => {
      lane.port = res.socket.localPort
      res.resume()
      res.on('end', () => done(res.statusCode === 200))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', () => done(false))
  })
let flooding = true
const sampling = (async () => {
  for (let i = 0; flooding; i++) {
    const lane = lanes[i % lanes.length]
    lane.samples.push(await healthz(lane))
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
clearInterval(descriptorSampler)
const { perWorker, healthzOn } = opts.workers > 0 ? await workerFigures() : {}

// Every admitted client works: a publication reaches all of them (with workers, published on
// one worker and carried to the others by the engine).
await Promise.all(generators.map((g) => g.call('subscribe', {}, 120_000)))
for (let c = 0; c < 10; c++) await server.publish(`flood/${c}`, 'hello')
const got = async () => (await Promise.all(generators.map((g) => g.call('got')))).reduce((a, b) => a + b, 0)
const until = Date.now() + 20_000
while ((await got()) < admitted && Date.now() < until) await sleep(100)

/**
 * How far admissions ran ahead of a token bucket of `perSecond` holding one second's worth, full
 * at the start: the most, over the k-th admission at t s, of k − perSecond × (1 + t). At most 0
 * when the limit held. The clients read their welcomes late, never early, so a value above 0 is
 * a real excess, while a one-second count (peakAdmittedPerSecond) may gather late reads.
 */
function aheadOfBucket(times, perSecond) {
  const sorted = [...times].sort((a, b) => a - b)
  let most = -Infinity
  sorted.forEach((t, k) => (most = Math.max(most, k + 1 - perSecond * (1 + Math.max(0, t) / 1000))))
  return Math.round(most)
}

/** The most admissions (ms since the start) that fall in one whole second. */
function peakPerSecond(times) {
  const perSecond = new Map()
  for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1)
  return Math.max(0, ...perSecond.values())
}

/**
 * Each worker's share: which process holds each admitted client's socket (`ss -p`), and from
 * that its admissions per second and per address, each against that worker's own limits.
 */
async function workerFigures() {
  const owners = await socketOwners(server.port)
  const figures = new Map(serverPids.map((pid) => [pid, { times: [], perAddress: new Map() }]))
  let unknown = 0
  for (const r of reports) {
    r.admittedFrom.forEach((from, k) => {
      const f = figures.get(owners.get(from))
      if (!f) return void unknown++
      f.times.push(r.admittedAt[k] - start)
      const address = from.slice(0, from.lastIndexOf(':'))
      f.perAddress.set(address, (f.perAddress.get(address) ?? 0) + 1)
    })
  }
  const perWorker = {
    workers: [...figures].map(([pid, f]) => ({
      pid: Number(pid),
      admitted: f.times.length,
      peakAdmittedPerSecond: peakPerSecond(f.times),
      admittedAheadOfItsBucket: aheadOfBucket(f.times, opts.connectsPerSecond),
      maxPerAddress: Math.max(0, ...f.perAddress.values()),
      peakOpenDescriptors: peakDescriptors.get(pid),
    })),
    admittedClientsNotFoundOnAWorker: unknown,
  }
  return { perWorker, healthzOn: keptAlive.map((l) => Number(owners.get(`127.0.0.1:${l.port}`) ?? 0) || null) }
}

function healthStats(samples) {
  const ms = samples.map((h) => h.ms)
  return {
    samples: ms.length,
    failed: samples.filter((h) => !h.ok).length,
    p50Ms: round(quantile(ms, 0.5)),
    p99Ms: round(quantile(ms, 0.99)),
    maxMs: round(Math.max(...ms)),
    over100Ms: ms.filter((m) => m > 100).length,
    slowest: ms
      .sort((a, b) => b - a)
      .slice(0, 5)
      .map(round),
  }
}
const result = {
  connections: opts.connections,
  openedWithinSeconds: opts.seconds,
  addresses: opts.addresses,
  limits: config.limits,
  loadGeneratorProcesses: opts.generators,
  server:
    opts.workers > 0
      ? `switchboard start --workers ${opts.workers} (one port, Redis engine): limits per worker`
      : 'one process',
  admitted,
  allAdmittedAfterSeconds: round(allInMs / 1000),
  attempts,
  refusals,
  peakAdmittedPerSecond: peakPerSecond(admittedAt),
  admittedAheadOfTheBucket: aheadOfBucket(admittedAt, opts.connectsPerSecond * Math.max(1, opts.workers)),
  maxPerAddress: Math.max(...perAddress.values()),
  ...(perWorker ?? { peakOpenDescriptors: peakDescriptors.get(serverPids[0]) }),
  healthz: healthStats(keptAlive.flatMap((l) => l.samples)),
  ...(healthzOn && { healthzKeptAliveConnectionsOnWorkers: healthzOn }),
  healthzNewConnectionEachTime: healthStats(freshLane.samples),
  admittedClientsThatGotAPublication: await got(),
}
console.log(JSON.stringify(result, null, 2))
await Promise.all(generators.map((g) => g.stop()))
await server.stop()
process.exit(0)
