#!/usr/bin/env node
// The record scenarios on their own (bench/run.mjs runs them with the rest):
//   node bench/records/run.mjs [--only record-fanout,record-writes]
//        [--servers deepstream,switchboard-sqlite,switchboard-postgres] [--duration 10] [--warmup 3]
//        [--record-subs 200] [--record-rate 100] [--record-workers 1] [--payload 100]
//        [--write-clients 100] [--write-records 1000] [--write-window 16] [--repeat 1]
//        [--rt 50] [--pin] [--nice 0] [--profile] [--profile-dir /tmp/profiles]
import { parseOptions } from '../lib/options.mjs'
import { killAllChildren } from '../lib/ipc.mjs'
import { aggregate, median } from '../lib/aggregate.mjs'
import { printRecordScenario, recordDefaults, recordScenarios, recordServerDefs } from './scenarios.mjs'

const HELP = `node bench/records/run.mjs [options]   (after \`npm run build\`)
  --only <list>          scenarios (${Object.keys(recordScenarios).join(', ')}; default: record-fanout,record-writes)
  --servers <list>       deepstream, switchboard-sqlite, switchboard-postgres, switchboard-memory, ws
                         (each scenario runs the ones it supports)
  --duration <s>         measured window per run (10); --warmup <s> before it (3)
  --repeat <n>           runs per server and scenario, server order rotated, medians reported (1)
  --rt <prio>            server and load generators as SCHED_FIFO processes (chrt -f, needs root;
                         RLIMIT_RTTIME 10 s as in bench/run.mjs); cannot be combined with --profile
  --pin                  server on CPU 0, load generators on CPU 1 (taskset)
  --nice <n>             nice level of server and load generators instead of --rt (0)
  --base <file>          another build of @switchboard/server (its dist/index.js, e.g. a copy of the
                         build before a change) as server switchboard-base (SQLite), in the same run
  --profile              V8 CPU profile of each server into --profile-dir (/tmp/profiles)
  --record-subs, --record-rate, --record-workers, --payload, --write-clients, --write-records,
  --write-window, --max-subs, --max-window: scenario sizes (see scenarios.mjs)`

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(HELP)
  process.exit(0)
}

const opts = parseOptions({
  only: 'record-fanout,record-writes',
  servers: 'deepstream,switchboard-sqlite,switchboard-postgres',
  duration: 10,
  warmup: 3,
  payload: 100,
  repeat: 1,
  rt: 0,
  pin: false,
  nice: 0,
  base: '',
  profile: false,
  'profile-dir': '/tmp/profiles',
  ...recordDefaults,
})
// V8's profiler thread spins between samples: at real-time priority that starves the machine.
if (opts.rt && opts.profile) throw new Error('--rt cannot be combined with --profile')
if (opts.base) {
  recordServerDefs['switchboard-base'] = { ...recordServerDefs['switchboard-sqlite'], label: 'SB before' }
  recordServerDefs['switchboard-base'].args = ['sqlite', opts.base]
  for (const sc of Object.values(recordScenarios))
    if (sc.servers.includes('switchboard-sqlite')) sc.servers.push('switchboard-base')
}
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))
// A hard bound on the whole run, whatever happens (real-time children must not linger).
setTimeout(
  () => {
    console.error('bench: global time limit reached, killing everything')
    process.exit(2)
  },
  30 * 60 * 1000,
).unref()

for (const name of opts.only.split(',')) {
  const sc = recordScenarios[name]
  if (!sc) throw new Error(`unknown scenario ${name}`)
  const keys = opts.servers.split(',').filter((k) => sc.servers.includes(k))
  const runs = Object.fromEntries(keys.map((k) => [k, []]))
  for (let rep = 0; rep < opts.repeat; rep++) {
    // Rotate the order on every repetition so slow drifts of the background load spread evenly.
    for (const key of keys.map((_, i) => keys[(i + rep) % keys.length])) {
      process.stdout.write(`  ${name} / ${key}${opts.repeat > 1 ? ` (run ${rep + 1}/${opts.repeat})` : ''} ... `)
      try {
        runs[key].push(await sc.run(opts, key))
        console.log('done')
      } catch (err) {
        runs[key].push({ error: String(err?.message ?? err) })
        console.log(`FAILED: ${runs[key].at(-1).error.split('\n')[0]}`)
      }
      killAllChildren()
    }
  }
  const results = Object.fromEntries(keys.map((k) => [k, aggregate(runs[k])]))
  printRecordScenario(name, opts, keys, results)
  if (opts.repeat > 1) {
    // The first two rows per run: the CPU and the kernel's part of it.
    for (const [label, key, digits] of sc.rows.slice(0, 2)) {
      for (const k of keys) {
        const vals = runs[k].map((r) => r[key]).filter((v) => typeof v === 'number')
        if (vals.length) console.log(`  ${k} ${label.trim()} per run: ${vals.map((v) => v.toFixed(digits)).join(', ')}`)
      }
    }
    // Kernel time drifts between rounds: each round's ratio to the floor measured in it.
    for (const k of keys.filter((k) => k !== 'ws' && runs.ws)) {
      const ratios = runs[k]
        .map((r, i) => r.cpuPerDeliveryUs / runs.ws[i]?.cpuPerDeliveryUs)
        .filter((x) => Number.isFinite(x))
      if (ratios.length)
        console.log(
          `  ${k} / ws floor per round: ${ratios.map((x) => x.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)})`,
        )
    }
  }
}
process.exit(0)
