// Record scenarios, in the shape bench/run.mjs uses for its own (title, run, rows, targets).
// Each run starts its own server child and load-generator children.
//
//   record-fanout: one writer sets a path of one record `--record-rate` times a second (a
//                  timestamp and ~--payload bytes); `--record-subs` subscribers on that record,
//                  with each system's official client. Latency p50/p99 (write → subscriber
//                  callback) and server CPU per 1,000 update deliveries. Switchboard persists
//                  every update (SQLite, PostgreSQL); deepstream.io keeps records in memory.
//   record-max:    one writer keeps `--max-window` updates in flight (Switchboard: until acked;
//                  the ws floor: until every subscriber got it), `--max-subs` subscribers with the
//                  official client: server CPU per *delivered* update (lagging Switchboard
//                  subscribers get coalesced newest states), and at the end whether every
//                  subscriber reached the last version, never seeing an older state after a newer.
//   record-writes: `--write-clients` lean clients keep `--write-window` atomic increments each
//                  in flight, round-robin over `--write-records` records, then over one record:
//                  acknowledged (= committed) writes/s, ack latency, server CPU per write.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startChild } from '../lib/ipc.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export const recordDefaults = {
  'record-subs': 200,
  'record-rate': 100, // updates/s
  'record-workers': 1, // load-generator processes holding the subscribers
  'write-clients': 100,
  'write-records': 1000,
  'write-window': 16, // writes in flight per client
  'max-subs': 50, // record-max: subscribers
  'max-window': 64, // record-max: updates the writer keeps in flight
}

export const recordServerDefs = {
  deepstream: {
    label: 'deepstream.io',
    file: join(here, 'servers', 'records-deepstream.mjs'),
    args: [],
    client: 'deepstream',
  },
  'switchboard-sqlite': {
    label: 'SB SQLite',
    file: join(here, 'servers', 'records-switchboard.mjs'),
    args: ['sqlite'],
    client: 'sb',
  },
  'switchboard-postgres': {
    label: 'SB Postgres',
    file: join(here, 'servers', 'records-switchboard.mjs'),
    args: ['postgres'],
    client: 'sb',
  },
  ws: {
    label: 'raw ws floor',
    file: join(here, '..', 'servers', 'raw-ws.mjs'),
    args: [],
    client: 'ws',
  },
  'switchboard-memory': {
    label: 'SB memory',
    file: join(here, 'servers', 'records-switchboard.mjs'),
    args: ['memory'],
    client: 'sb',
  },
}

const profileDir = (opts) =>
  opts['profile-dir'] ?? (opts.out ? join(dirname(opts.out), 'profiles') : join(here, '..', 'results', 'profiles'))

async function withSetup(opts, key, workerCount, fn) {
  const def = recordServerDefs[key]
  if (!def) throw new Error(`no record server ${key}`)
  const server = await startChild(def.file, {
    args: def.args,
    execArgv: [
      '--expose-gc',
      // --profile: a V8 CPU profile of the server, warm-up included (bench/run.mjs does the same)
      ...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir(opts)}`] : []),
    ],
    name: `${key} server`,
    pinCpu: opts.pin ? 0 : undefined,
    nice: opts.nice ?? 0,
    rt: opts.rt ?? 0,
  })
  const workers = []
  try {
    for (let i = 0; i < workerCount; i++) {
      workers.push(
        await startChild(join(here, 'loadgen', 'record-worker.mjs'), {
          name: `records loadgen ${i}`,
          pinCpu: opts.pin ? 1 : undefined,
          nice: opts.nice ?? 0,
          rt: opts.rt ?? 0,
        }),
      )
    }
    await Promise.all(workers.map((w) => w.call('init', { kind: def.client, port: server.info.port })))
    return await fn({ server, workers })
  } finally {
    await Promise.allSettled(workers.map((w) => w.call('closeAll', {}, 60_000)))
    await Promise.allSettled(workers.map((w) => w.stop()))
    await server.stop(10_000)
  }
}

const cpuUs = (a, b) => b.cpu.user + b.cpu.system - (a.cpu.user + a.cpu.system)
const systemUs = (a, b) => b.cpu.system - a.cpu.system

/** One measured window: server CPU from the server, counts and latency from the workers. */
async function window(server, workers, seconds) {
  const s0 = await server.call('cpu')
  await Promise.all(workers.map((w) => w.call('mark')))
  await sleep(seconds * 1000)
  const s1 = await server.call('cpu')
  const reports = await Promise.all(workers.map((w) => w.call('report')))
  const wallMs = s1.t - s0.t
  return { cpuUs: cpuUs(s0, s1), systemUs: systemUs(s0, s1), wallMs, reports }
}

const RECORD = 'bench/fanout'
const RECORD_MAX = 'bench/max'

export const recordScenarios = {
  'record-fanout': {
    servers: ['deepstream', 'switchboard-sqlite', 'switchboard-postgres', 'switchboard-memory', 'ws'],
    title: (o) =>
      `Record-update fan-out: 1 writer, ${o['record-subs']} subscribers on one record, ${o['record-rate']} updates/s x ~${o.payload} B, ${o.duration} s`,
    run: (opts, key) =>
      withSetup(opts, key, opts['record-workers'], async ({ server, workers }) => {
        const per = Math.ceil(opts['record-subs'] / workers.length)
        const subs = await Promise.all(
          workers.map((w, i) =>
            w.call('subscribe', { count: Math.min(per, opts['record-subs'] - i * per), name: RECORD }, 180_000),
          ),
        )
        await workers[0].call('startWriter', { name: RECORD, rate: opts['record-rate'], payloadBytes: opts.payload })
        await sleep(opts.warmup * 1000)
        const m = await window(server, workers, opts.duration)
        await Promise.all(workers.map((w) => w.call('stopLoad')))
        const delivered = m.reports.reduce((a, r) => a + r.delivered, 0)
        const lat = m.reports[0].latency
        return {
          subscribers: subs.reduce((a, s) => a + s.ok, 0),
          connectFailures: subs.reduce((a, s) => a + s.failed, 0),
          updates: m.reports[0].published,
          delivered,
          p50Ms: lat.p50Ms ?? null,
          p99Ms: lat.p99Ms ?? null,
          maxMs: lat.maxMs ?? null,
          cpuPerDeliveryUs: delivered > 0 ? m.cpuUs / delivered : null,
          cpuPer1000DeliveriesMs: delivered > 0 ? m.cpuUs / delivered : null,
          systemPer1000DeliveriesMs: delivered > 0 ? m.systemUs / delivered : null,
          serverCpuPct: (m.cpuUs / 1000 / m.wallMs) * 100,
          loadgenCpuPct: m.reports.map((r) => +r.loadgenCpuPct.toFixed(0)),
          errors: m.reports.reduce((a, r) => a + r.errors, 0),
          lastError: m.reports.find((r) => r.lastError)?.lastError,
        }
      }),
    rows: [
      ['server CPU / 1,000 deliveries (ms)', 'cpuPer1000DeliveriesMs', 2],
      ['  of which in the kernel (ms)', 'systemPer1000DeliveriesMs', 2],
      ['latency p50 (ms)', 'p50Ms', 2],
      ['latency p99 (ms)', 'p99Ms', 2],
      ['latency max (ms)', 'maxMs', 1],
      ['server CPU (% of a core)', 'serverCpuPct', 1],
      ['updates in window', 'updates', 0],
      ['deliveries in window', 'delivered', 0],
      ['load-gen CPU (%)', 'loadgenCpuPct', 0],
    ],
    targets: [
      // Issue 12: relative to the floor measured in the same run (0.7x deepstream.io was below it).
      { key: 'cpuPerDeliveryUs', sb: 'switchboard-sqlite', vs: 'ws', max: 1.1 },
      { key: 'p99Ms', sb: 'switchboard-sqlite', vs: 'deepstream', max: 1.0 },
    ],
    print: (name, opts, results) => printRecordScenario(name, opts, Object.keys(results), results),
  },

  'record-max': {
    servers: ['switchboard-sqlite', 'switchboard-postgres', 'switchboard-memory', 'ws'],
    title: (o) =>
      `Record updates at max rate: 1 writer keeping ${o['max-window']} updates in flight, ${o['max-subs']} subscribers on one record, ~${o.payload} B, ${o.duration} s`,
    run: (opts, key) =>
      // Switchboard's writer has a process of its own, so it can outrun the subscribers; the ws
      // floor's writer waits for every subscriber, so it runs in theirs.
      withSetup(opts, key, key === 'ws' ? 1 : 2, async ({ server, workers }) => {
        const [w] = workers
        const writer = workers[1] ?? w
        const sub = await w.call('subscribe', { count: opts['max-subs'], name: RECORD_MAX }, 180_000)
        await writer.call('startMaxWriter', {
          name: RECORD_MAX,
          window: opts['max-window'],
          payloadBytes: opts.payload,
        })
        await sleep(opts.warmup * 1000)
        const m = await window(server, workers, opts.duration)
        const end = await writer.call('stopMaxWriter', {}, 60_000)
        const c = await w.call('converge', end, 60_000)
        const published = m.reports.reduce((a, r) => a + r.published, 0)
        m.reports[0].published = published
        const rep = m.reports[0]
        const seconds = rep.elapsedMs / 1000
        return {
          subscribers: sub.ok,
          connectFailures: sub.failed,
          updatesPerSec: rep.published / seconds,
          deliveriesPerSec: rep.delivered / seconds,
          // Of the updates written, the share each subscriber saw on average (1 = every one).
          deliveredShare: rep.published > 0 ? rep.delivered / (rep.published * sub.ok) : null,
          cpuPerDeliveryUs: rep.delivered > 0 ? m.cpuUs / rep.delivered : null,
          systemPerDeliveryUs: rep.delivered > 0 ? m.systemUs / rep.delivered : null,
          serverCpuPct: (m.cpuUs / 1000 / m.wallMs) * 100,
          p50Ms: rep.latency.p50Ms ?? null,
          p99Ms: rep.latency.p99Ms ?? null,
          converged: c.converged,
          notConverged: c.subscribers - c.converged,
          outOfOrder: rep.outOfOrder,
          loadgenCpuPct: m.reports.map((r) => +r.loadgenCpuPct.toFixed(0)),
          errors: m.reports.reduce((a, r) => a + r.errors, 0),
          lastError: m.reports.find((r) => r.lastError)?.lastError,
        }
      }),
    rows: [
      ['server CPU / delivered update (µs)', 'cpuPerDeliveryUs', 2],
      ['  of which in the kernel (µs)', 'systemPerDeliveryUs', 2],
      ['updates / s', 'updatesPerSec', 0],
      ['delivered updates / s', 'deliveriesPerSec', 0],
      ['share of updates each subscriber saw', 'deliveredShare', 3],
      ['latency p50 (ms)', 'p50Ms', 0],
      ['latency p99 (ms)', 'p99Ms', 0],
      ['server CPU (% of a core)', 'serverCpuPct', 0],
      ['subscribers at the last version', 'converged', 0],
      ['  not at the last version', 'notConverged', 0],
      ['older state after a newer one', 'outOfOrder', 0],
      ['load-gen CPU (%)', 'loadgenCpuPct', 0],
    ],
    targets: [{ key: 'cpuPerDeliveryUs', sb: 'switchboard-sqlite', vs: 'ws', max: 0.8 }],
    print: (name, opts, results) => printRecordScenario(name, opts, Object.keys(results), results),
  },

  'record-writes': {
    servers: ['switchboard-sqlite', 'switchboard-postgres'],
    title: (o) =>
      `Acknowledged record writes: ${o['write-clients']} clients x ${o['write-window']} in flight, atomic increments, ${o.duration} s each to ${o['write-records']} records and to 1 record`,
    run: async (opts, key) => {
      const out = {}
      for (const [suffix, records] of [
        ['Many', opts['write-records']],
        ['One', 1],
      ]) {
        const r = await withSetup(opts, key, 1, async ({ server, workers }) => {
          const [w] = workers
          await w.call('startWrites', { count: opts['write-clients'], records, window: opts['write-window'] }, 120_000)
          await sleep(opts.warmup * 1000)
          const m = await window(server, workers, opts.duration)
          await w.call('stopLoad')
          const rep = m.reports[0]
          return {
            writesPerSec: rep.acked / (rep.elapsedMs / 1000),
            ackP50Ms: rep.latency.p50Ms ?? null,
            ackP99Ms: rep.latency.p99Ms ?? null,
            cpuPerWriteUs: rep.acked > 0 ? m.cpuUs / rep.acked : null,
            serverCpuPct: (m.cpuUs / 1000 / m.wallMs) * 100,
            loadgenCpuPct: rep.loadgenCpuPct,
            errors: rep.errors,
            lastError: rep.lastError,
          }
        })
        for (const [k, v] of Object.entries(r)) out[`${k}${suffix}`] = v
      }
      return out
    },
    rows: [
      ['writes / s, 1,000 records', 'writesPerSecMany', 0],
      ['  ack p50 / p99 (ms)', ['ackP50MsMany', 'ackP99MsMany'], 1],
      ['  server CPU / write (µs)', 'cpuPerWriteUsMany', 1],
      ['  server CPU (% of a core)', 'serverCpuPctMany', 0],
      ['  load-gen CPU (%)', 'loadgenCpuPctMany', 0],
      ['writes / s, 1 record', 'writesPerSecOne', 0],
      ['  ack p50 / p99 (ms)', ['ackP50MsOne', 'ackP99MsOne'], 1],
      ['  server CPU / write (µs)', 'cpuPerWriteUsOne', 1],
      ['  server CPU (% of a core)', 'serverCpuPctOne', 0],
    ],
    targets: [{ key: 'writesPerSecMany', sb: 'switchboard-sqlite', min: 20_000 }],
    print: (name, opts, results) => printRecordScenario(name, opts, Object.keys(results), results),
  },
}

const fmt = (v, d) =>
  typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-'
const cell = (r, key, d) => {
  if (!r || r.error) return r?.error ? 'ERROR' : '-'
  if (Array.isArray(key)) return key.map((k) => fmt(r[k], d)).join(' / ')
  const v = r[key]
  return Array.isArray(v) ? v.map((x) => fmt(x, d)).join('/') : fmt(v, d)
}

/** Prints one scenario's table and targets (`results`: server key → result). */
export function printRecordScenario(name, opts, keys, results) {
  const sc = recordScenarios[name]
  const w = 16
  console.log(`\n== ${sc.title(opts)}`)
  console.log('metric'.padEnd(40) + keys.map((k) => recordServerDefs[k].label.padStart(w)).join(''))
  for (const [label, key, d] of sc.rows) {
    console.log(label.padEnd(40) + keys.map((k) => cell(results[k], key, d).padStart(w)).join(''))
  }
  for (const t of sc.targets) {
    const sb = results[t.sb]?.[t.key]
    if (t.min !== undefined) {
      const verdict = typeof sb === 'number' ? (sb >= t.min ? 'MET' : 'MISSED') : 'n/a'
      console.log(`  target: ${recordServerDefs[t.sb].label} ${t.key} >= ${t.min}: ${fmt(sb, 0)} ${verdict}`)
      continue
    }
    const base = results[t.vs]?.[t.key]
    const r = typeof sb === 'number' && typeof base === 'number' && base > 0 ? sb / base : null
    const verdict = r === null ? 'n/a' : r <= t.max ? 'MET' : 'MISSED'
    console.log(
      `  target: ${recordServerDefs[t.sb].label} ${t.key} <= ${t.max}x ${recordServerDefs[t.vs].label}: ${r === null ? '-' : r.toFixed(2) + 'x'} ${verdict}`,
    )
  }
  // What no record server can go below on this machine: the relay with no record logic.
  const floor = results.ws?.cpuPerDeliveryUs
  if (typeof floor === 'number')
    for (const k of keys) {
      const v = results[k]?.cpuPerDeliveryUs
      if (k !== 'ws' && typeof v === 'number')
        console.log(
          `  floor: ${recordServerDefs[k].label} CPU / delivery = ${(v / floor).toFixed(2)}x the raw ws floor`,
        )
    }
  for (const k of keys) {
    const r = results[k]
    if (r?.error) console.log(`  ${recordServerDefs[k].label}: ERROR ${r.error.split('\n')[0]}`)
    const errors = r?.errors ?? (r?.errorsMany ?? 0) + (r?.errorsOne ?? 0)
    if (errors)
      console.log(
        `  ${recordServerDefs[k].label}: ${errors} errors (${r.lastError ?? r.lastErrorMany ?? r.lastErrorOne ?? ''})`,
      )
    if (r?.connectFailures) console.log(`  ${recordServerDefs[k].label}: ${r.connectFailures} failed subscribers`)
  }
}
