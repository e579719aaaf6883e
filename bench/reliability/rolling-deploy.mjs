#!/usr/bin/env node
// Rolling deploy on Redis: three `switchboard start` processes joined through the Redis engine;
// clients subscribed with recover: true (each lists all three nodes, starting at a different
// one); a publisher at a steady rate; every node restarted in turn (SIGTERM, wait for it to exit,
// start it again, wait until it is ready). The ledger: every acknowledged publication delivered
// exactly once to every subscriber, in order; clients stranded at the end; the time from each
// node's SIGTERM until its clients had resubscribed (and recovered); the peak connect rate.
//   node bench/reliability/rolling-deploy.mjs [--clients 2000] [--rate 200] [--window 2000]
//     [--redis redis://127.0.0.1:6379]
// Needs a Redis server. Run `npm run build` first.
import { performance } from 'node:perf_hooks'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Switchboard } from '@switchboard/client'
import { parseOptions } from '../lib/options.mjs'
import { quantile, round, sleep } from './stats.mjs'

const opts = parseOptions({ clients: 2000, rate: 200, window: 2000, redis: 'redis://127.0.0.1:6379', settle: 3 })
const CLI = fileURLToPath(new URL('../../packages/cli/bin/switchboard.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sb-roll-'))
const nodes = []
const cleanup = () => {
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
// JSON is YAML: no YAML library needed here.
writeFileSync(
  configFile,
  JSON.stringify({
    engine: { type: 'redis', url: opts.redis, prefix: `sb-roll-${process.pid}:` },
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
const rotated = (i) => [...urls.slice(i % 3), ...urls.slice(0, i % 3)]

// Clients, with their ledger and their timeline.
const connects = []
const clients = []
for (let i = 0; i < opts.clients; i++) {
  const sb = new Switchboard(rotated(i))
  sb.on('error', () => {}) // refusals while nodes restart are part of the test; the ledger judges
  const c = { sb, got: [], drops: [], recoveries: [] }
  sb.on('state', (s) => {
    if (s === 'reconnecting') c.drops.push(performance.now())
    if (s === 'connected') connects.push(performance.now())
  })
  clients.push(c)
}
await Promise.all(clients.map((c) => c.sb.connect()))
await Promise.all(
  clients.map((c) => {
    const sub = c.sb.subscribe('roll/feed', (d) => c.got.push(d), { recover: true })
    sub.on('recovered', () => c.recoveries.push(performance.now()))
    return sub.ready
  }),
)

// The publisher: `rate` publications a second; resends after a drop are deduplicated by id.
const publisher = new Switchboard(rotated(1))
publisher.on('error', () => {})
await publisher.connect()
let seq = 0
const acked = new Set()
const failures = []
let publishing = true
const inFlight = new Set()
const feeding = (async () => {
  const start = performance.now()
  while (publishing) {
    const n = ++seq
    const p = publisher.publish('roll/feed', n).then(
      () => void acked.add(n),
      (e) => void failures.push(`${n}: ${e.code}`),
    )
    inFlight.add(p)
    void p.finally(() => inFlight.delete(p))
    await sleep(Math.max(0, start + (n / opts.rate) * 1000 - performance.now()))
  }
  await Promise.all(inFlight)
})()

await sleep(opts.settle * 1000)
const restarts = []
const t0 = performance.now()
for (const node of nodes) {
  const at = performance.now()
  node.child.kill('SIGTERM')
  const code = await node.exited
  const stoppedAfter = performance.now() - at
  await startNode(node)
  restarts.push({
    port: node.port,
    at,
    exitCode: code,
    stoppedAfterMs: round(stoppedAfter),
    backAfterMs: round(performance.now() - at),
  })
  await sleep(opts.settle * 1000)
}
const deployMs = performance.now() - t0
publishing = false
await feeding

const expected = Array.from({ length: seq }, (_, i) => i + 1)
const until = Date.now() + 60_000
while (Date.now() < until && !clients.every((c) => c.got.length >= seq)) await sleep(100)

// Time from a node's SIGTERM to the recovery of each client it dropped.
const toResubscribed = []
const toDropped = []
const dropToResubscribed = []
for (const [k, r] of restarts.entries()) {
  const end = restarts[k + 1]?.at ?? Infinity
  for (const c of clients) {
    const drop = c.drops.find((t) => t >= r.at && t < end)
    if (drop === undefined) continue
    const rec = c.recoveries.find((t) => t >= drop)
    if (rec === undefined) continue
    toResubscribed.push(rec - r.at)
    toDropped.push(drop - r.at)
    dropToResubscribed.push(rec - drop)
  }
}
const perSecond = new Map()
for (const t of connects)
  if (t >= t0) perSecond.set(Math.floor((t - t0) / 1000), (perSecond.get(Math.floor((t - t0) / 1000)) ?? 0) + 1)
const exact = clients.filter((c) => c.got.length === seq && c.got.every((x, i) => x === expected[i])).length
console.log(
  JSON.stringify(
    {
      clients: opts.clients,
      ratePerSecond: opts.rate,
      drainWindowMs: opts.window,
      deploySeconds: round(deployMs / 1000),
      restarts,
      published: seq,
      acknowledged: acked.size,
      publishFailures: failures.length,
      clientsWithEveryMessageOnceInOrder: exact,
      clientsStranded: clients.filter((c) => c.sb.state !== 'connected').length,
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
      peakConnectsPerSecondAllNodes: Math.max(0, ...perSecond.values()),
    },
    null,
    2,
  ),
)
await Promise.all([publisher, ...clients.map((c) => c.sb)].map((sb) => sb.close()))
for (const n of nodes) n.child.kill('SIGTERM')
await Promise.all(nodes.map((n) => n.exited))
process.exit(0)
