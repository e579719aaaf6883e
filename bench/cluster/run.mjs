#!/usr/bin/env node
// Fan-out across a cluster on one Redis (bench/README.md, "Cluster on Redis"):
//   node bench/cluster/run.mjs [--systems sb-single,sb-redis,sio-redis,sio-streams] [--nodes 3]
//        [--subs 1000] [--rate 50] [--window 16] [--payload 100] [--duration 10] [--warmup 3]
//        [--repeat 3] [--rt 50] [--pin] [--base <other build's dist/index.js>] [--out bench/results/cluster.json]
// Each system gets its own redis-server (free port, no persistence), its nodes (the bench
// servers of bench/servers/ with --redis), and one load generator: `--subs` subscribers of one
// channel spread evenly over the nodes, the publisher on node 1. In one setup two windows are
// measured: `--rate` publications/s, then `--window` publications outstanding (max rate).
// Per window: CPU of every node (process.cpuUsage over IPC) plus Redis (INFO cpu), per delivery;
// latency of the subscribers on node 1 (same node as the publisher) and on the others
// (cross-node); Redis commands per publication from INFO commandstats (Lua's calls included).
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseOptions } from '../lib/options.mjs'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { machineCpu, waitForQuiet } from '../lib/machine.mjs'
import { callDelta, killAllRedis, startRedis } from './redis-server.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const bench = join(here, '..')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const ROOM = 'bench/room1'

/** The systems compared; `args(url)` are the node's arguments given its Redis. */
const SYSTEMS = {
  'sb-single': { label: 'SB 1 node (memory)', file: 'servers/switchboard.mjs', client: 'switchboard', redis: false },
  'sb-redis': {
    label: 'SB cluster (Redis)',
    file: 'servers/switchboard.mjs',
    client: 'switchboard',
    redis: true,
    args: (url) => [`--redis=${url}`],
  },
  'sio-redis': {
    label: 'sio + redis-adapter',
    file: 'servers/socketio.mjs',
    client: 'socketio',
    redis: true,
    args: (url) => [`--redis=${url}`, '--adapter=redis'],
  },
  'sio-streams': {
    label: 'sio + streams-adapter',
    file: 'servers/socketio.mjs',
    client: 'socketio',
    redis: true,
    args: (url) => [`--redis=${url}`, '--adapter=streams'],
  },
  'sio-single': { label: 'socket.io 1 node', file: 'servers/socketio.mjs', client: 'socketio', redis: false },
}

const opts = parseOptions({
  systems: 'sb-single,sb-redis,sio-redis,sio-streams',
  // fixed: --rate msg/s; max: --window outstanding. Real-time priority (--rt) suits `fixed` only:
  // at max rate the servers never block, and RLIMIT_RTTIME (10 s) kills them.
  windows: 'fixed,max',
  nodes: 3,
  subs: 1000,
  rate: 50,
  window: 16,
  payload: 100,
  duration: 10,
  warmup: 3,
  repeat: 1,
  rt: 0,
  nice: 0,
  pin: false,
  'quiet-wait': 5,
  // Another build of @switchboard/server (its dist/index.js) as system sb-redis-base: before/after.
  base: '',
  out: join(bench, 'results', 'cluster.json'),
})
if (opts.base) {
  SYSTEMS['sb-redis-base'] = {
    ...SYSTEMS['sb-redis'],
    label: 'SB cluster, before',
    args: (url) => [`--redis=${url}`, `--module=${opts.base}`],
  }
  if (!opts.systems.includes('sb-redis-base')) opts.systems += ',sb-redis-base'
}
const systems = opts.systems.split(',').filter(Boolean)
const windows = opts.windows.split(',').filter(Boolean)
for (const w of windows) if (w !== 'fixed' && w !== 'max') throw new Error(`unknown window ${w} (fixed, max)`)
if (opts.rt && windows.includes('max')) throw new Error('--rt with the max window: use --windows fixed (or --nice)')
for (const s of systems) if (!SYSTEMS[s]) throw new Error(`unknown system ${s} (${Object.keys(SYSTEMS).join(', ')})`)

// ---- cleanup: no child and no Redis outlives the run -------------------------------------------
const cleanup = () => {
  killAllChildren()
  killAllRedis()
}
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130))
process.on('unhandledRejection', (err) => {
  console.error(err)
  process.exit(1)
})
// A hard bound on the whole run: real-time children must not outlive a stuck parent.
setTimeout(
  () => {
    console.error('cluster bench: global time limit reached')
    process.exit(2)
  },
  30 * 60 * 1000,
).unref()

// ---- one system: Redis, nodes, load generator ----------------------------------------------------
async function withSystem(key, fn) {
  const def = SYSTEMS[key]
  const pinned = opts.pin && os.cpus().length >= 2
  const prio = { rt: opts.rt, nice: opts.nice }
  // The servers' side (nodes and Redis) on CPU 0, the load generator on CPU 1.
  const redis = def.redis ? await startRedis({ ...prio, pinCpu: pinned ? 0 : undefined }) : null
  const nodes = []
  let worker
  try {
    const count = def.redis ? opts.nodes : 1
    for (let i = 0; i < count; i++) {
      nodes.push(
        await startChild(join(bench, def.file), {
          args: def.redis ? def.args(redis.url) : [],
          execArgv: ['--expose-gc'],
          name: `${key} node ${i + 1}`,
          pinCpu: pinned ? 0 : undefined,
          ...prio,
        }),
      )
    }
    worker = await startChild(join(bench, 'loadgen', 'worker.mjs'), {
      name: 'loadgen',
      pinCpu: pinned ? 1 : undefined,
      ...prio,
    })
    await worker.call('init', { kind: def.client, port: nodes[0].info.port })
    return await fn({ redis, nodes, worker })
  } finally {
    if (worker) {
      await worker.call('closeAll', {}, 60000).catch(() => {})
      await worker.stop()
    }
    await Promise.allSettled(nodes.map((n) => n.stop()))
    await redis?.stop()
  }
}

/** Subscribers spread evenly over the nodes (333/333/334), in groups: node 1 vs the others. */
async function connectSubscribers(nodes, worker) {
  let ok = 0
  let failed = 0
  for (let i = 0; i < nodes.length; i++) {
    const count = Math.floor((opts.subs * (i + 1)) / nodes.length) - Math.floor((opts.subs * i) / nodes.length)
    const r = await worker.call(
      'connect',
      {
        count,
        rooms: Array(count).fill(ROOM),
        port: nodes[i].info.port,
        group: i === 0 ? 'same-node' : 'cross-node',
      },
      180000,
    )
    ok += r.ok
    failed += r.failed
    if (r.failed) console.error(`    ! ${r.failed} connections to node ${i + 1} failed: ${r.firstError}`)
  }
  return { ok, failed }
}

const cpuUs = (a, b) => b.cpu.user + b.cpu.system - (a.cpu.user + a.cpu.system)

/** One measured window over every node, Redis and the load generator. */
async function measure({ redis, nodes, worker }, idleCallsPerSec = 0) {
  const m0 = machineCpu()
  const n0 = await Promise.all(nodes.map((n) => n.call('cpu')))
  const r0 = redis ? await redis.sample() : null
  await worker.call('mark')
  await sleep(opts.duration * 1000)
  const n1 = await Promise.all(nodes.map((n) => n.call('cpu')))
  const r1 = redis ? await redis.sample() : null
  const rep = await worker.call('report')
  const m1 = machineCpu()
  const wallMs = n1[0].t - n0[0].t
  const nodeCpuUs = nodes.map((_, i) => cpuUs(n0[i], n1[i]))
  const nodesUs = nodeCpuUs.reduce((a, b) => a + b, 0)
  const redisUs = redis ? r1.cpuUs - r0.cpuUs : 0
  const calls = redis ? callDelta(r0, r1) : {}
  const totalCalls = Object.values(calls).reduce((a, b) => a + b, 0)
  const ours = (nodesUs + redisUs) / 1000 + (rep.loadgenCpuPct / 100) * rep.elapsedMs
  const softirqMs = m0 && m1 ? m1.softirqMs - m0.softirqMs : null
  const { delivered, published } = rep
  const perDelivery = (us) => (delivered > 0 ? us / delivered : null)
  const byGroup = rep.latencyByGroup ?? {}
  return {
    windowS: +(wallMs / 1000).toFixed(2),
    published,
    delivered,
    expectedDeliveries: published * opts.subs,
    deliveriesPerSec: delivered / (wallMs / 1000),
    cpuPerDeliveryUs: perDelivery(nodesUs + redisUs),
    nodesCpuPerDeliveryUs: perDelivery(nodesUs),
    redisCpuPerDeliveryUs: perDelivery(redisUs),
    nodeCpuPct: nodeCpuUs.map((us) => +((us / 1000 / wallMs) * 100).toFixed(1)),
    redisCpuPct: (redisUs / 1000 / wallMs) * 100,
    p50Ms: rep.latency.p50Ms ?? null,
    p99Ms: rep.latency.p99Ms ?? null,
    maxMs: rep.latency.maxMs ?? null,
    sameNodeP99Ms: byGroup['same-node']?.p99Ms ?? null,
    crossNodeP50Ms: byGroup['cross-node']?.p50Ms ?? null,
    crossNodeP99Ms: byGroup['cross-node']?.p99Ms ?? null,
    redisCallsPerPublication: redis && published > 0 ? totalCalls / published : null,
    // The same, less the calls an idle cluster makes in as long (node heartbeats, occupancy).
    redisCallsPerPublicationNet:
      redis && published > 0 ? Math.max(0, totalCalls - (idleCallsPerSec * wallMs) / 1000) / published : null,
    idleCallsPerSec,
    redisCallsByCommand: Object.fromEntries(
      Object.entries(calls).map(([k, v]) => [k, +(v / Math.max(1, published)).toFixed(3)]),
    ),
    loadgenCpuPct: rep.loadgenCpuPct,
    otherCpuPct: m0 && m1 ? Math.max(0, ((m1.busyMs - m0.busyMs - softirqMs - ours) / wallMs) * 100) : null,
    errors: rep.errors,
    lastError: rep.lastError,
    stalls: rep.stalls,
    skippedSlots: rep.skippedSlots,
  }
}

/** Redis calls per second while nothing is published: what the nodes cost by the clock. */
async function idleCallRate({ redis }) {
  if (!redis) return 0
  const r0 = await redis.sample()
  const t0 = Date.now()
  await sleep(Math.min(5, opts.duration) * 1000)
  const r1 = await redis.sample()
  const total = Object.values(callDelta(r0, r1)).reduce((a, b) => a + b, 0)
  return total / ((Date.now() - t0) / 1000)
}

async function runSystem(key) {
  return withSystem(key, async (sys) => {
    const c = await connectSubscribers(sys.nodes, sys.worker)
    await sys.worker.call('publisher', { port: sys.nodes[0].info.port })
    const out = { subscribers: c.ok, connectFailures: c.failed }
    const idle = await idleCallRate(sys)
    // Fixed rate, then max rate, on the same connections.
    if (windows.includes('fixed')) {
      await sys.worker.call('startRate', { rate: opts.rate, rooms: [ROOM], payloadBytes: opts.payload })
      await sleep(opts.warmup * 1000)
      out.fixed = await measure(sys, idle)
      await sys.worker.call('stopPublish', {}, 20000)
    }
    if (windows.includes('max')) {
      await sys.worker.call('startWindow', { window: opts.window, rooms: [ROOM], payloadBytes: opts.payload })
      await sleep(opts.warmup * 1000)
      out.max = await measure(sys, idle)
      await sys.worker.call('stopPublish', {}, 20000)
    }
    return out
  })
}

// ---- medians and output -------------------------------------------------------------------------
const median = (xs) => {
  const a = xs.filter((x) => typeof x === 'number').sort((x, y) => x - y)
  if (a.length === 0) return null
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2
}
function aggregate(runs) {
  const ok = runs.filter((r) => !r.error)
  if (ok.length === 0) return { error: runs[0]?.error }
  const out = {}
  for (const w of windows) {
    out[w] = {}
    for (const [k, v] of Object.entries(ok[0][w])) {
      out[w][k] = typeof v === 'number' ? median(ok.map((r) => r[w][k])) : v
    }
  }
  return { ...out, runs: ok.length, failedRuns: runs.length - ok.length }
}

const fmt = (v, d = 2) =>
  typeof v === 'number' && Number.isFinite(v)
    ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
    : '-'

function printWindow(title, w, results) {
  const rows = [
    ['CPU / delivery, all (µs)', 'cpuPerDeliveryUs', 2],
    ['  nodes (µs)', 'nodesCpuPerDeliveryUs', 2],
    ['  Redis (µs)', 'redisCpuPerDeliveryUs', 2],
    ['deliveries / s', 'deliveriesPerSec', 0],
    ['latency p50 (ms)', 'p50Ms', 2],
    ['latency p99 (ms)', 'p99Ms', 2],
    ['  same-node p99 (ms)', 'sameNodeP99Ms', 2],
    ['  cross-node p99 (ms)', 'crossNodeP99Ms', 2],
    ['latency max (ms)', 'maxMs', 1],
    ['Redis commands / publication', 'redisCallsPerPublication', 2],
    ['Redis commands / publication, idle rate subtracted', 'redisCallsPerPublicationNet', 2],
    ['Redis CPU (% of a core)', 'redisCpuPct', 1],
    ['load-gen CPU (%)', 'loadgenCpuPct', 0],
    ['other processes CPU (%)', 'otherCpuPct', 0],
  ]
  console.log(`\n== ${title}`)
  console.log('metric'.padEnd(32) + systems.map((s) => SYSTEMS[s].label.padStart(23)).join(''))
  for (const [label, k, d] of rows) {
    console.log(
      label.padEnd(32) +
        systems.map((s) => (results[s].error ? 'ERROR' : fmt(results[s][w][k], d)).padStart(23)).join(''),
    )
  }
  for (const s of systems) {
    if (results[s].error) console.log(`  ${SYSTEMS[s].label}: ERROR ${results[s].error.split('\n')[0]}`)
    const r = results[s][w]
    if (!r) continue
    if (Object.keys(r.redisCallsByCommand ?? {}).length)
      console.log(
        `  ${SYSTEMS[s].label} Redis calls per publication: ${Object.entries(r.redisCallsByCommand)
          .map(([c, n]) => `${c} ${n}`)
          .join(', ')}`,
      )
    if (r.delivered < r.expectedDeliveries * 0.99)
      console.log(`  ${SYSTEMS[s].label}: delivered ${r.delivered} of ${r.expectedDeliveries}`)
    if (r.errors) console.log(`  ${SYSTEMS[s].label}: ${r.errors} errors (${r.lastError})`)
    if (r.stalls) console.log(`  ${SYSTEMS[s].label}: ${r.stalls} window stalls`)
  }
}

function verdict(label, value, limit) {
  const ok = typeof value === 'number' && typeof limit === 'number' ? (value <= limit ? 'MET' : 'MISSED') : 'n/a'
  console.log(`  target: ${label}: ${fmt(value)} (limit ${fmt(limit)}) ${ok}`)
}

function printTargets(results) {
  const sb = results['sb-redis']
  if (!sb || sb.error) return
  console.log('\n== Targets (Switchboard cluster)')
  for (const w of windows) {
    const cpu = sb[w].cpuPerDeliveryUs
    const sio = results['sio-redis']?.[w]?.cpuPerDeliveryUs
    const one = results['sb-single']?.[w]?.cpuPerDeliveryUs
    if (sio) verdict(`${w}: CPU/delivery / socket.io+redis-adapter <= 0.8`, cpu / sio, 0.8)
    if (one) verdict(`${w}: CPU/delivery / SB one node (memory) <= 1.15`, cpu / one, 1.15)
  }
  const single = results['sb-single']?.fixed?.p99Ms
  if (typeof single === 'number' && sb.fixed)
    verdict(`fixed: cross-node p99 (ms) <= single-node p99 + 2`, sb.fixed.crossNodeP99Ms, single + 2)
  // The nodes' heartbeats (every quarter of engine.nodeTimeout) add calls by the second, not by
  // publication: the verdict counts what the publications add over an idle window of the same
  // cluster (measured before publishing); the raw count, heartbeats included, is printed beside it.
  for (const w of windows) {
    if (!sb[w]) continue
    verdict(
      `${w}: Redis commands / publication (idle rate subtracted) <= 1 + ${opts.nodes}`,
      sb[w].redisCallsPerPublicationNet,
      1 + opts.nodes,
    )
    console.log(
      `  (${w}: ${fmt(sb[w].redisCallsPerPublication)} with the heartbeats; idle ${fmt(sb[w].idleCallsPerSec)} calls/s)`,
    )
  }
}

// ---- main --------------------------------------------------------------------------------------
console.log(
  `Cluster bench: ${os.cpus().length} CPUs, node ${process.version}, ${opts.subs} subscribers over ${opts.nodes} nodes, ` +
    `${opts.rate} msg/s then ${opts.window} outstanding, ${opts.duration} s windows, load avg ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
)
const runs = Object.fromEntries(systems.map((s) => [s, []]))
for (let rep = 0; rep < opts.repeat; rep++) {
  // Rotated order: slow drifts of the background load spread over every system.
  for (const key of systems.map((_, i) => systems[(i + rep) % systems.length])) {
    process.stdout.write(`  ${SYSTEMS[key].label}${opts.repeat > 1 ? ` (run ${rep + 1}/${opts.repeat})` : ''} ... `)
    const t0 = Date.now()
    try {
      const background = opts['quiet-wait'] > 0 ? await waitForQuiet(opts['quiet-wait']) : null
      const r = await runSystem(key)
      runs[key].push({ ...r, backgroundCpuPct: background })
      const w = r.fixed ?? r.max
      console.log(
        `${((Date.now() - t0) / 1000).toFixed(1)} s: ${fmt(w.cpuPerDeliveryUs)} µs per delivery, ` +
          `p99 ${fmt(w.p99Ms)} ms (cross-node ${fmt(w.crossNodeP99Ms)}), ${fmt(w.redisCallsPerPublication)} Redis calls/pub`,
      )
    } catch (err) {
      runs[key].push({ error: String(err?.stack ?? err) })
      console.log(`FAILED: ${String(err?.message ?? err).split('\n')[0]}`)
    }
    cleanup()
    await sleep(500)
  }
}
const results = Object.fromEntries(systems.map((s) => [s, aggregate(runs[s])]))
const agg = opts.repeat > 1 ? ` (median of ${opts.repeat})` : ''
if (windows.includes('fixed'))
  printWindow(`Fixed rate: ${opts.rate} msg/s to ${opts.subs} subscribers${agg}`, 'fixed', results)
if (windows.includes('max'))
  printWindow(`Max rate: ${opts.window} publications outstanding, ${opts.subs} subscribers${agg}`, 'max', results)
printTargets(results)
mkdirSync(dirname(opts.out), { recursive: true })
writeFileSync(
  opts.out,
  `${JSON.stringify({ date: new Date().toISOString(), options: opts, loadavgEnd: os.loadavg(), results, runs }, null, 2)}\n`,
)
console.log(`\nRaw results: ${opts.out}`)
process.exit(0)
