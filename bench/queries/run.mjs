#!/usr/bin/env node
// The live-query benchmark (bench/README.md, "Live queries"):
//   node bench/queries/run.mjs [--only maintenance,first-load] [--storages sqlite,postgres]
//        [--records 10000] [--connections 100] [--per-query 10] [--rate 1000] [--low-rate 50]
//        [--first-load-records 100000] [--first-load-times 20] [--duration 10] [--warmup 3]
//        [--strategies incremental,rerun] [--out bench/results/queries.json] [--profile]
//        [--rt <prio>] [--pin]
//   maintenance: `--records` records in `items`, 100 distinct live queries × `--per-query`
//                subscribers over `--connections` connections, `--rate` writes/s of whole
//                documents to random records. Server CPU per write, write → subscriber latency,
//                for the incremental strategy and the naive one (re-run each query on every
//                write of the collection) in the same run, and with no query at all (`none`: the
//                writes' own cost). Again at `--low-rate`, where the naive strategy is not
//                saturated (at the full rate it falls behind and re-runs once for many writes).
//   first-load:  `--first-load-records` records; a query for 1,000 of them served by a declared
//                index, opened and closed `--first-load-times` times: time to the answer at the
//                client, and the same query in the server process (storage and rules only).
import { writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpus, loadavg, uptime } from 'node:os'
import { parseOptions } from '../lib/options.mjs'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { distinctQueries, FIRST_LOAD_QUERY } from './shapes.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const opts = parseOptions({
  only: 'maintenance,first-load',
  storages: 'sqlite',
  strategies: 'none,incremental,rerun',
  records: 10_000,
  connections: 100,
  'per-query': 10,
  rate: 1000,
  'low-rate': 50,
  'first-load-records': 100_000,
  'first-load-times': 20,
  duration: 10,
  warmup: 3,
  out: join(here, '..', 'results', 'queries.json'),
  profile: false,
  'profile-dir': '/tmp/profiles',
  // SCHED_FIFO priority of the server and the load generator (chrt -f, needs root; 0: off), as in
  // bench/run.mjs: on a shared machine other work then hardly disturbs the figures.
  rt: 0,
  // taskset: the server on CPU 0, the load generator on CPU 1.
  pin: false,
})
// V8's profiler thread spins between samples: at real-time priority that starves the machine.
if (opts.rt && opts.profile) throw new Error('--rt cannot be combined with --profile')
// Measured: pinned to one CPU at one SCHED_FIFO priority, the server's threads (the SQLite store's
// writer and checkpointer, V8's) starve each other until RLIMIT_RTTIME kills the process at start.
if (opts.rt && opts.pin) throw new Error('--rt cannot be combined with --pin (the server starves its own threads)')
const pinned = opts.pin && cpus().length >= 2
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

async function withServer(storage, strategy, records, fn) {
  const server = await startChild(join(here, 'servers', 'queries-switchboard.mjs'), {
    args: [storage, strategy, String(records)],
    execArgv: ['--expose-gc', ...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${opts['profile-dir']}`] : [])],
    name: `queries server (${storage}, ${strategy})`,
    readyTimeoutMs: 600_000,
    rt: opts.rt,
    pinCpu: pinned ? 0 : undefined,
  })
  const worker = await startChild(join(here, 'loadgen', 'query-worker.mjs'), {
    name: 'queries loadgen',
    rt: opts.rt,
    pinCpu: pinned ? 1 : undefined,
  })
  try {
    await worker.call('init', { port: server.info.port })
    return await fn({ server, worker })
  } finally {
    await worker.call('closeAll', {}, 60_000).catch(() => {})
    await worker.stop()
    await server.stop(10_000)
  }
}

const cpuUs = (a, b) => b.cpu.user + b.cpu.system - (a.cpu.user + a.cpu.system)

async function maintenance(storage, strategy, rate) {
  // `none`: the same writes with no live query open, the cost of the writes themselves.
  return withServer(
    storage,
    strategy === 'none' ? 'incremental' : strategy,
    opts.records,
    async ({ server, worker }) => {
      const queries = strategy === 'none' ? [] : distinctQueries()
      if (queries.length > 0) {
        await worker.call(
          'openQueries',
          { connections: opts.connections, queries, perQuery: opts['per-query'] },
          180_000,
        )
      }
      await worker.call('startWriter', { rate, records: opts.records })
      await sleep(opts.warmup * 1000)
      const s0 = await server.call('cpu')
      await worker.call('mark')
      await sleep(opts.duration * 1000)
      const s1 = await server.call('cpu')
      const r = await worker.call('report')
      await worker.call('stopLoad')
      const cpu = cpuUs(s0, s1)
      const wallMs = s1.t - s0.t
      return {
        rate,
        liveQueries: queries.length * opts['per-query'],
        distinct: queries.length,
        writesSent: r.sent,
        writesAcked: r.acked,
        cpuPerWriteUs: r.acked > 0 ? cpu / r.acked : null,
        serverCpuPct: (cpu / 1000 / wallMs) * 100,
        eventLoopPct:
          ((s1.elu.active - s0.elu.active) / (s1.elu.idle + s1.elu.active - s0.elu.idle - s0.elu.active)) * 100,
        deliveries: r.delivered,
        timedDeliveries: r.timed,
        frames: r.frames,
        p50Ms: r.latency.p50Ms ?? null,
        p99Ms: r.latency.p99Ms ?? null,
        maxMs: r.latency.maxMs ?? null,
        loadgenCpuPct: r.loadgenCpuPct,
        errors: r.errors,
        lastError: r.lastError,
      }
    },
  )
}

async function firstLoad(storage) {
  return withServer(storage, 'incremental', opts['first-load-records'], async ({ server, worker }) => {
    const client = await worker.call('firstLoad', { query: FIRST_LOAD_QUERY, times: opts['first-load-times'] }, 300_000)
    const inProcess = await server.call('stats', {}, 300_000)
    return { seedMs: server.info.info.seedMs, client, inProcess }
  })
}

const results = {
  options: opts,
  machine: { cpus: cpus().length, loadavgAtStart: loadavg(), uptimeS: uptime() },
  runs: {},
}
console.log(
  `${new Date().toISOString()} load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
for (const storage of opts.storages.split(',')) {
  if (opts.only.includes('maintenance')) {
    for (const rate of [opts.rate, opts['low-rate']].filter((r) => r > 0)) {
      for (const strategy of opts.strategies.split(',')) {
        const key = `maintenance/${storage}/${strategy}@${rate}`
        process.stdout.write(`${key} ... `)
        results.runs[key] = await maintenance(storage, strategy, rate)
        console.log(JSON.stringify(results.runs[key]))
      }
    }
  }
  if (opts.only.includes('first-load')) {
    process.stdout.write(`first-load / ${storage} ... `)
    results.runs[`first-load/${storage}`] = await firstLoad(storage)
    console.log(JSON.stringify(results.runs[`first-load/${storage}`]))
  }
}
// The query part of a write: each strategy's CPU per write minus that of the same writes with no
// query open (`none`), at each rate; and how many times the naive strategy's part is the
// incremental one's.
for (const storage of opts.storages.split(',')) {
  for (const rate of [opts.rate, opts['low-rate']].filter((r) => r > 0)) {
    const at = (strategy) => results.runs[`maintenance/${storage}/${strategy}@${rate}`]?.cpuPerWriteUs
    const none = at('none')
    if (none == null) continue
    const part = (strategy) => (at(strategy) == null ? null : at(strategy) - none)
    const inc = part('incremental')
    const naive = part('rerun')
    const summary = { incrementalUs: inc, rerunUs: naive, ratio: inc > 0 && naive != null ? naive / inc : null }
    results.runs[`query-part/${storage}@${rate}`] = summary
    console.log(`query part of a write, ${storage} @ ${rate}/s: ${JSON.stringify(summary)}`)
  }
}
results.machine.loadavgAtEnd = loadavg()
console.log(
  `${new Date().toISOString()} load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
mkdirSync(dirname(opts.out), { recursive: true })
writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`)
console.log(`results in ${opts.out}`)
process.exit(0)
