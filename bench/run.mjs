#!/usr/bin/env node
// Switchboard fan-out benchmark: Switchboard vs raw `ws` vs socket.io, same run, same machine.
// Every server runs in its own child process; load generators run in 1..n other processes.
// Usage: node bench/run.mjs [--only a,b] [--servers ws,socketio,switchboard] [--duration 10] ...
//        node bench/run.mjs --help
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { SignJWT } from 'jose'
import { startChild, killAllChildren } from './lib/ipc.mjs'
import { machineCpu, waitForQuiet } from './lib/machine.mjs'
import { aggregate } from './lib/aggregate.mjs'
import { rpcDefaults, rpcScenarios } from './rpc/scenarios.mjs'
import { recordDefaults, recordScenarios } from './records/scenarios.mjs'
import { manyDefaults, manyScenarios } from './many/scenarios.mjs'
import { capacityDefaults, capacityScenarios } from './capacity/scenarios.mjs'
import { connectMix, connectMixDefaults } from './connect/scenarios.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret!' // 32+ bytes, HS256
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// ---- options ------------------------------------------------------------------------------
const SCENARIOS = [
  'fanout-fixed',
  'fanout-max',
  'rooms',
  'idle-memory',
  'connect',
  'connect-mix',
  'rpc',
  'presence',
  'record-fanout',
  'record-writes',
  'many-idle',
  'capacity',
]
const SERVERS = {
  ws: { label: 'raw ws', file: 'servers/raw-ws.mjs', args: [], client: 'raw' },
  'ws-send': {
    label: 'ws.send',
    file: 'servers/raw-ws.mjs',
    args: ['--send'],
    client: 'raw',
    only: ['fanout-fixed', 'fanout-max', 'rooms'],
  },
  // Raw ws that answers a hello with a welcome (Switchboard's client): the connect round trip
  // with nothing else, the floor of a protocol with a hello. Only when named in --servers.
  'ws-hello': {
    label: 'ws + hello',
    file: 'servers/raw-ws.mjs',
    args: ['--hello'],
    client: 'switchboard',
    only: ['connect', 'connect-mix'],
    named: true,
  },
  socketio: { label: 'socket.io', file: 'servers/socketio.mjs', args: [], client: 'socketio' },
  deepstream: { label: 'deepstream.io', only: ['rpc', 'record-fanout'] }, // bench/rpc/servers/, bench/records/servers/
  switchboard: { label: 'Switchboard', file: 'servers/switchboard.mjs', args: [], client: 'switchboard' },
  // The fallback transports (`family`: the client transport in loadgen/http-transports.mjs).
  'switchboard-sse': {
    label: 'SB SSE',
    file: 'servers/switchboard.mjs',
    args: [],
    client: 'switchboard',
    family: 'sse',
    only: ['fanout-fixed', 'rooms', 'idle-memory'],
  },
  // The SSE floor: raw-ws.mjs's relay over SSE + POST /send (servers/raw-sse.mjs), with the
  // same SSE client as switchboard-sse: what Node's HTTP server costs before any Switchboard code.
  'sse-floor': {
    label: 'raw SSE',
    file: 'servers/raw-sse.mjs',
    args: [],
    client: 'raw',
    family: 'sse',
    only: ['fanout-fixed', 'rooms', 'idle-memory'],
  },
  'switchboard-longpoll': {
    label: 'SB longpoll',
    file: 'servers/switchboard.mjs',
    args: [],
    client: 'switchboard',
    family: 'longpoll',
    only: ['fanout-fixed', 'rooms', 'idle-memory'],
  },
  'socketio-polling': {
    label: 'sio polling',
    file: 'servers/socketio.mjs',
    args: ['--polling'],
    client: 'socketio',
    family: 'polling',
    only: ['fanout-fixed', 'rooms', 'idle-memory'],
  },
  // The same server with auth.jwt (HS256) and no anonymous access; every hello carries a JWT.
  'switchboard-jwt': {
    label: 'SB + JWT',
    file: 'servers/switchboard.mjs',
    args: [`--jwt-secret=${JWT_SECRET}`],
    client: 'switchboard',
    token: await new SignJWT({ name: 'bench' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bench-user')
      .setExpirationTime('2h')
      .sign(Buffer.from(JWT_SECRET)),
    only: ['connect', 'connect-mix'],
  },
  // Records with persistence on: bench/records/servers/records-switchboard.mjs
  'switchboard-sqlite': { label: 'SB SQLite', only: ['record-fanout', 'record-writes'] },
  'switchboard-postgres': { label: 'SB Postgres', only: ['record-fanout', 'record-writes'] },
}
const DEFAULTS = {
  only: SCENARIOS.filter((s) => s !== 'many-idle' && s !== 'capacity').join(','), // those two only when asked for
  servers: Object.keys(SERVERS)
    .filter((k) => !SERVERS[k].named)
    .join(','),
  duration: 10, // s, measured window of the three publishing scenarios
  warmup: 3, // s, publishing before each measured window
  subs: 1000, // subscribers in the fan-out scenarios
  rate: 50, // publications/s, fixed-rate fan-out
  window: 16, // outstanding publications, max-rate fan-out
  rooms: 100,
  'room-size': 10,
  'room-rate': 9000, // deliveries/s in total, rooms scenario
  payload: 100, // bytes of JSON payload
  idle: 5000, // connections, idle-memory scenario
  connects: 2000, // connections, connect scenario
  ...rpcDefaults, // rpc-calls, rpc-inflight, presence-members, presence-rate (bench/rpc/scenarios.mjs)
  ...recordDefaults, // record-subs, record-rate, record-workers, write-clients, write-records, write-window
  ...connectMixDefaults, // mix-rounds, mix-batch
  ...capacityDefaults, // cap-step, cap-max, cap-samples, cap-concurrent, cap-limit-ms
  ...manyDefaults, // many, many-workers, many-per-source, many-hb-window, many-pub-rate, many-pub-window, many-heartbeat
  repeat: 1, // runs per server and scenario (median reported)
  workers: 1, // load-generator processes
  clients: 'lean', // lean: minimal WebSocket client for all three; lib: ws / socket.io-client libraries
  'quiet-wait': 5, // s, at most, waiting for other processes to calm down before each run
  nice: -10, // scheduling priority of the server and load generators (0: leave as is)
  'node-flags': '', // extra Node/V8 flags for the server processes, e.g. "--max-semi-space-size=64"
  base: '', // another server build (its dist/index.js) to run as server `switchboard-base`
  rt: 0, // SCHED_FIFO priority of the server and load generators instead of nice (0: off)
  profile: false, // --cpu-prof the servers (whole run of each pair, warm-up included)
  'loop-delay': false, // servers report event-loop delay and GC pauses per window (adds a 1 ms timer)
  pin: false, // taskset: server on CPU 0, load generators on CPU 1
  out: join(here, 'results', 'latest.json'),
}
const HELP = `node bench/run.mjs [options]
  --only <list>       scenarios: ${SCENARIOS.join(', ')} (default: all)
  --servers <list>    ${Object.keys(SERVERS).join(', ')} (default: all but ws-hello)
  --duration <s>      measured window of the publishing scenarios (${DEFAULTS.duration})
  --warmup <s>        warm-up before each window (${DEFAULTS.warmup})
  --subs <n>          fan-out subscribers (${DEFAULTS.subs})
  --rate <n>          fixed-rate publications/s (${DEFAULTS.rate})
  --window <n>        max-rate outstanding publications (${DEFAULTS.window})
  --rooms <n> --room-size <n> --room-rate <deliveries/s>   (${DEFAULTS.rooms} x ${DEFAULTS['room-size']} at ${DEFAULTS['room-rate']}/s)
  --payload <bytes>   JSON payload size (${DEFAULTS.payload})
  --idle <n>          idle connections for the memory scenario (${DEFAULTS.idle})
  --connects <n>      connections for the connect-cost scenario (${DEFAULTS.connects})
  connect-mix:        the connect cost with every server up at once, alternating --mix-batch <n>
                      connections (${DEFAULTS['mix-batch']}) per server for --mix-rounds <n> rounds (${DEFAULTS['mix-rounds']}), order rotated:
                      the robust way to read a connect ratio on a shared machine
  --rpc-calls <n>     rpc: sequential calls for latency (${DEFAULTS['rpc-calls']}); --rpc-inflight <n> calls
                      outstanding for throughput (${DEFAULTS['rpc-inflight']}), for --duration s
  --presence-members <n>  presence: clients that watch and join one room (${DEFAULTS['presence-members']});
                      --presence-rate <n> joins per ms (${DEFAULTS['presence-rate']})
  --record-subs <n>   record-fanout: subscribers of one record (${DEFAULTS['record-subs']}), --record-rate <n> updates/s
                      (${DEFAULTS['record-rate']}), --record-workers <n> load processes (${DEFAULTS['record-workers']})
  --write-clients <n> record-writes: clients (${DEFAULTS['write-clients']}) x --write-window <n> writes in flight
                      (${DEFAULTS['write-window']}) over --write-records <n> records (${DEFAULTS['write-records']}), then 1
  --many <n>          many-idle: idle connections in one server process, each subscribed to its own
                      channel (${DEFAULTS.many}), from --many-workers <n> load generators (${DEFAULTS['many-workers']}),
                      --many-per-source <n> per loopback source address (${DEFAULTS['many-per-source']}); after
                      --many-settle <s> (${DEFAULTS['many-settle']}) the heartbeat window
                      --many-hb-window <s> (${DEFAULTS['many-hb-window']}); then --many-pub-rate <n> publications/s (${DEFAULTS['many-pub-rate']})
                      for --many-pub-window <s> (${DEFAULTS['many-pub-window']}); --many-heartbeat <interval,timeout> (ms)
                      sets Switchboard's server.heartbeat (default: its own). Not in the default run.
  --cap-step <n>      capacity: subscribers added to the one room per step (${DEFAULTS['cap-step']}), up to --cap-max <n>
                      (${DEFAULTS['cap-max']}); --cap-samples <n> broadcasts per step (${DEFAULTS['cap-samples']}), --cap-concurrent <n>
                      in flight (${DEFAULTS['cap-concurrent']}); stops when p95 > --cap-limit-ms <ms> (${DEFAULTS['cap-limit-ms']}). Not in the
                      default run. Use --workers 2.
  --repeat <n>        runs per server and scenario, server order rotated, medians reported (${DEFAULTS.repeat})
  --workers <n>       load-generator processes (${DEFAULTS.workers}); latency comes from worker 0
  --clients <kind>    lean (minimal WebSocket client speaking each protocol; default) or lib
                      (the ws client library; the official socket.io-client for socket.io)
  --quiet-wait <s>    before each server/scenario pair, wait up to this long for the rest of the
                      machine to use < 40% of a core (default ${DEFAULTS['quiet-wait']}; 0 disables)
  --nice <n>          run server and load generators at this nice level (default -10, needs root;
                      other work on a shared machine then disturbs the numbers less; 0 disables)
  --node-flags <s>    extra Node/V8 flags for the server processes (space-separated), e.g.
                      "--max-semi-space-size=64" or "--trace-gc" (fan-out, connect and many-idle scenarios)
  --base <file>       another build of @switchboard/server (its dist/index.js, e.g. from an older
                      commit) as server switchboard-base (and switchboard-base-sse,
                      switchboard-base-longpoll), measured in the same run (before/after)
  --rt <prio>         run server and load generators as real-time processes (chrt -f <prio>, needs
                      root) instead of --nice: other work on the machine then hardly disturbs the
                      latency figures (the kernel still keeps 5% of each CPU for everyone else)
  --profile           write a V8 CPU profile of every server process to results/profiles/
                      (open in Chrome DevTools → Performance, or speedscope)
  --loop-delay        servers report their event-loop delay (p50/p99/max, monitorEventLoopDelay at
                      1 ms resolution) and GC pauses during the window (off by default: the
                      histogram's 1 ms timer costs CPU)
  --pin               pin the server to CPU 0 and the load generators to CPU 1 (taskset)
  --out <file>        raw results JSON (${DEFAULTS.out})`

function parseArgs(argv) {
  const opts = { ...DEFAULTS }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--help' || a === '-h') {
      console.log(HELP)
      process.exit(0)
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`)
    let [key, val] = a.slice(2).split('=', 2)
    if (!(key in DEFAULTS)) throw new Error(`unknown option --${key} (see --help)`)
    if (typeof DEFAULTS[key] === 'boolean') {
      opts[key] = val === undefined ? true : val !== 'false'
      continue
    }
    if (val === undefined) val = argv[++i]
    if (val === undefined) throw new Error(`--${key} needs a value`)
    opts[key] = typeof DEFAULTS[key] === 'number' ? Number(val) : val
    if (typeof DEFAULTS[key] === 'number' && key !== 'nice' && key !== 'quiet-wait' && !(opts[key] > 0))
      throw new Error(`--${key} must be a positive number`)
  }
  opts.scenarios = opts.only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const s of opts.scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`)
  if (!['lean', 'lib'].includes(opts.clients)) throw new Error('--clients must be lean or lib')
  opts.serverList = opts.servers
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (opts.base) {
    // The same bench server, loading the other build; every scenario Switchboard runs.
    SERVERS['switchboard-base'] = {
      label: 'SB before',
      file: 'servers/switchboard.mjs',
      args: [`--module=${opts.base}`],
      client: 'switchboard',
      only: ['fanout-fixed', 'fanout-max', 'rooms', 'idle-memory', 'connect', 'connect-mix', 'many-idle'],
    }
    // …and over each fallback transport.
    for (const family of ['sse', 'longpoll']) {
      SERVERS[`switchboard-base-${family}`] = {
        ...SERVERS[`switchboard-${family}`],
        label: `SB ${family} before`,
        args: [`--module=${opts.base}`],
      }
    }
  }
  for (const s of opts.serverList) if (!SERVERS[s]) throw new Error(`unknown server ${s}`)
  // V8's profiler thread spins between samples: at real-time priority that starves the machine.
  if (opts.rt && (opts.profile || /--cpu-prof|--prof\b/.test(opts['node-flags'])))
    throw new Error('--rt cannot be combined with profiling (--profile, --cpu-prof, --prof)')
  return opts
}

// ---- cleanup: no child outlives the run ------------------------------------------------------
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping, killing child processes`)
    killAllChildren()
    process.exit(130)
  })
}
process.on('uncaughtException', (err) => {
  console.error(err)
  killAllChildren()
  process.exit(1)
})
process.on('unhandledRejection', (err) => {
  console.error(err)
  killAllChildren()
  process.exit(1)
})

// ---- machine ------------------------------------------------------------------------------
const require = createRequire(join(here, 'package.json'))
function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version
  } catch {
    try {
      // packages whose "exports" hide package.json
      let dir = dirname(require.resolve(name))
      for (let i = 0; i < 5; i++, dir = dirname(dir)) {
        try {
          const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
          if (p.name === name) return p.version
        } catch {}
      }
    } catch {}
    return null
  }
}
function ulimitN() {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' })
  const n = Number(r.stdout.trim())
  return Number.isFinite(n) ? n : r.stdout.trim() === 'unlimited' ? Infinity : null
}
function machineInfo() {
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memTotalGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    ulimitN: ulimitN(),
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    versions: {
      ws: pkgVersion('ws'),
      'socket.io': pkgVersion('socket.io'),
      'socket.io-client': pkgVersion('socket.io-client'),
      '@switchboard/server': pkgVersion('@switchboard/server'),
    },
  }
}

// ---- process setup ---------------------------------------------------------------------------
async function withSetup(opts, serverKey, fn) {
  const def = SERVERS[serverKey]
  const pinned = opts.pin && (os.availableParallelism?.() ?? os.cpus().length) >= 2
  const server = await startChild(join(here, def.file), {
    args: [...def.args, ...(opts['loop-delay'] ? ['--loop-stats'] : [])],
    execArgv: [
      '--expose-gc',
      ...opts['node-flags'].split(' ').filter(Boolean),
      ...(opts.profile
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${join(dirname(opts.out), 'profiles')}`,
            `--cpu-prof-name=${opts.currentScenario}-${serverKey}-${Date.now()}.cpuprofile`,
          ]
        : []),
    ],
    name: `${serverKey} server`,
    pinCpu: pinned ? 0 : undefined,
    nice: opts.nice,
    rt: opts.rt,
  })
  const workers = []
  try {
    for (let i = 0; i < opts.workers; i++) {
      workers.push(
        await startChild(join(here, 'loadgen', 'worker.mjs'), {
          name: `loadgen ${i}`,
          pinCpu: pinned ? 1 : undefined,
          nice: opts.nice,
          rt: opts.rt,
        }),
      )
    }
    await Promise.all(
      workers.map((w) =>
        w.call('init', {
          kind: def.client,
          port: server.info.port,
          clients: def.family ?? opts.clients,
          loopDelay: opts['loop-delay'],
          token: def.token,
        }),
      ),
    )
    return await fn({ server, workers })
  } finally {
    await Promise.allSettled(workers.map((w) => w.call('closeAll', {}, 60000)))
    await Promise.allSettled(workers.map((w) => w.stop()))
    await server.stop()
  }
}

/** Connect `count` connections spread round-robin over the workers; `roomOf(i)` or idle. */
async function connectSpread(workers, count, roomOf, concurrency = 50) {
  const plans = workers.map(() => [])
  for (let i = 0; i < count; i++) plans[i % workers.length].push(roomOf ? roomOf(i) : null)
  const results = await Promise.all(
    workers.map((w, j) =>
      w.call(
        'connect',
        {
          count: plans[j].length,
          rooms: roomOf ? plans[j] : null,
          concurrency: Math.ceil(concurrency / workers.length),
        },
        180000,
      ),
    ),
  )
  const ok = results.reduce((a, r) => a + r.ok, 0)
  const failed = results.reduce((a, r) => a + r.failed, 0)
  const ms = Math.max(...results.map((r) => r.ms))
  if (failed > 0)
    console.error(`    ! ${failed}/${count} connections failed: ${results.find((r) => r.firstError)?.firstError}`)
  return { ok, failed, ms }
}

function threadDelta(a, b) {
  return Object.fromEntries(
    Object.keys(b)
      .map((k) => [k, Math.round(b[k] - (a[k] ?? 0))])
      .filter(([, v]) => v > 0),
  )
}

function cpuDelta(a, b) {
  const us = b.cpu.user + b.cpu.system - (a.cpu.user + a.cpu.system)
  const active = b.elu.active - a.elu.active
  const idle = b.elu.idle - a.elu.idle
  return {
    cpuUs: us,
    userUs: b.cpu.user - a.cpu.user,
    sysUs: b.cpu.system - a.cpu.system,
    wallMs: b.t - a.t,
    elu: active / (active + idle || 1),
  }
}

/** One measured window: server CPU from the server, deliveries and latency from the workers. */
async function measureWindow(server, workers, seconds) {
  const mc0 = machineCpu()
  const s0 = await server.call('cpu')
  await Promise.all(workers.map((w) => w.call('mark')))
  await sleep(seconds * 1000)
  const s1 = await server.call('cpu')
  const reports = await Promise.all(workers.map((w) => w.call('report')))
  const mc1 = machineCpu()
  const d = cpuDelta(s0, s1)
  // CPU used on the machine by anything but this server and the load generators: noise.
  const ours = d.cpuUs / 1000 + reports.reduce((a, r) => a + (r.loadgenCpuPct / 100) * r.elapsedMs, 0)
  const softirqMs = mc0 && mc1 ? mc1.softirqMs - mc0.softirqMs : null
  const otherCpuPct = mc0 && mc1 ? Math.max(0, ((mc1.busyMs - mc0.busyMs - softirqMs - ours) / d.wallMs) * 100) : null
  const softirqPct = softirqMs === null ? null : (softirqMs / d.wallMs) * 100
  const delivered = reports.reduce((a, r) => a + r.delivered, 0)
  const published = reports[0].published
  const lat = reports[0].latency
  return {
    windowS: +(d.wallMs / 1000).toFixed(2),
    published,
    delivered,
    deliveriesPerSec: delivered / (d.wallMs / 1000),
    serverCpuMs: d.cpuUs / 1000,
    serverCpuPct: (d.cpuUs / 1000 / d.wallMs) * 100,
    serverElu: d.elu,
    cpuPerDeliveryUs: delivered > 0 ? d.cpuUs / delivered : null,
    userPerDeliveryUs: delivered > 0 ? d.userUs / delivered : null,
    sysPerDeliveryUs: delivered > 0 ? d.sysUs / delivered : null,
    p50Ms: lat.p50Ms ?? null,
    p90Ms: lat.p90Ms ?? null,
    p99Ms: lat.p99Ms ?? null,
    maxMs: lat.maxMs ?? null,
    latencySamples: lat.samples,
    loadgenCpuPct: reports.map((r) => +r.loadgenCpuPct.toFixed(1)),
    ...(reports[0].loopDelayMs ? { loadgenLoopDelayMs: reports[0].loopDelayMs } : {}),
    ...(s1.loop
      ? {
          loopDelayMs: [s1.loop.p50Ms, s1.loop.p99Ms, s1.loop.maxMs],
          gc: [s1.loop.gcCount, s1.loop.gcMajor, s1.loop.gcMaxMs],
          gcTotalMs: s1.loop.gcTotalMs,
          // CPU ms of the server's threads during the window: the main thread vs V8's and libuv's
          threadCpuMs: s1.threads && s0.threads ? threadDelta(s0.threads, s1.threads) : undefined,
        }
      : {}),
    errors: reports.reduce((a, r) => a + r.errors, 0),
    lastError: reports.find((r) => r.lastError)?.lastError,
    otherCpuPct,
    softirqPct,
    skippedSlots: reports[0].skippedSlots,
    stalls: reports[0].stalls,
  }
}

// ---- scenarios --------------------------------------------------------------------------------
const ROOM = 'bench/room1'

async function publishingScenario(opts, serverKey, { subs, roomOf, rooms, start, extra }) {
  return withSetup(opts, serverKey, async ({ server, workers }) => {
    const c = await connectSpread(workers, subs, roomOf)
    await workers[0].call('publisher')
    await workers[0].call(start.cmd, { ...start.args, rooms, payloadBytes: opts.payload })
    await sleep(opts.warmup * 1000)
    const m = await measureWindow(server, workers, opts.duration)
    await Promise.all(workers.map((w) => w.call('stopPublish', {}, 20000)))
    const expected = extra.fixedExpected ? m.published * (c.ok / rooms.length) : null
    return { subscribers: c.ok, connectFailures: c.failed, ...m, ...(expected ? { expectedDeliveries: expected } : {}) }
  })
}

const scenarios = {
  ...rpcScenarios, // rpc, presence: own servers and load generator (bench/rpc/)
  ...recordScenarios, // record-fanout, record-writes: own servers and load generator (bench/records/)
  ...manyScenarios({ readFile: readFileSync }), // many-idle: own setup (bench/many/)
  ...capacityScenarios, // capacity: own setup (bench/capacity/)
  'fanout-fixed': {
    title: (o) =>
      `Fixed-rate fan-out: ${o.subs} subscribers, 1 channel, ${o.rate} msg/s x ${o.payload} B, ${o.duration} s`,
    run: (opts, key) =>
      publishingScenario(opts, key, {
        subs: opts.subs,
        roomOf: () => ROOM,
        rooms: [ROOM],
        start: { cmd: 'startRate', args: { rate: opts.rate } },
        extra: { fixedExpected: true },
      }),
    rows: [
      ['server CPU / delivery (µs)', 'cpuPerDeliveryUs', 2],
      ['  user / sys (µs)', 'userSys', 1],
      ['latency p50 (ms)', 'p50Ms', 2],
      ['latency p99 (ms)', 'p99Ms', 2],
      ['latency max (ms)', 'maxMs', 1],
      ['server CPU (% of a core)', 'serverCpuPct', 1],
      ['deliveries in window', 'delivered', 0],
      ['load-gen CPU (%)', 'loadgenCpuPct', 0],
      ['machine softirq (% of a core)', 'softirqPct', 0],
      ['other processes CPU (%)', 'otherCpuPct', 0],
    ],
    targets: [
      { key: 'cpuPerDeliveryUs', vs: 'ws', max: 1.1 },
      { key: 'cpuPerDeliveryUs', vs: 'socketio', max: 1.0 },
      { key: 'p99Ms', vs: 'ws', max: 1.2 },
    ],
  },
  'fanout-max': {
    title: (o) =>
      `Max-rate fan-out: ${o.subs} subscribers, 1 channel, ${o.window} publications outstanding, ${o.duration} s`,
    run: (opts, key) =>
      publishingScenario(opts, key, {
        subs: opts.subs,
        roomOf: () => ROOM,
        rooms: [ROOM],
        start: { cmd: 'startWindow', args: { window: opts.window } },
        extra: {},
      }),
    rows: [
      ['deliveries / s', 'deliveriesPerSec', 0],
      ['server CPU / delivery (µs)', 'cpuPerDeliveryUs', 2],
      ['  user / sys (µs)', 'userSys', 1],
      ['server event-loop busy (%)', 'serverEluPct', 1],
      ['server CPU (% of a core)', 'serverCpuPct', 1],
      ['latency p50 (ms)', 'p50Ms', 1],
      ['latency p99 (ms)', 'p99Ms', 1],
      ['load-gen CPU (%)', 'loadgenCpuPct', 0],
      ['machine softirq (% of a core)', 'softirqPct', 0],
      ['other processes CPU (%)', 'otherCpuPct', 0],
    ],
    targets: [{ key: 'cpuPerDeliveryUs', vs: 'ws', max: 0.8 }],
  },
  rooms: {
    title: (o) =>
      `Many small rooms: ${o.rooms} rooms x ${o['room-size']} subscribers, ${o['room-rate']} deliveries/s (${o['room-rate'] / o['room-size']} pub/s), ${o.duration} s`,
    run: (opts, key) => {
      const names = Array.from({ length: opts.rooms }, (_, i) => `bench/room${i}`)
      return publishingScenario(opts, key, {
        subs: opts.rooms * opts['room-size'],
        roomOf: (i) => names[Math.floor(i / opts['room-size'])],
        rooms: names,
        start: { cmd: 'startRate', args: { rate: opts['room-rate'] / opts['room-size'] } },
        extra: { fixedExpected: true },
      })
    },
    rows: [
      ['server CPU / delivery (µs)', 'cpuPerDeliveryUs', 2],
      ['  user / sys (µs)', 'userSys', 1],
      ['deliveries / s', 'deliveriesPerSec', 0],
      ['latency p50 (ms)', 'p50Ms', 2],
      ['latency p99 (ms)', 'p99Ms', 2],
      ['latency max (ms)', 'maxMs', 1],
      ['server loop delay p50/p99/max', 'loopDelayMs', 1],
      ['server GC count/major/max ms', 'gc', 1],
      ['load-gen loop delay p50/p99/max', 'loadgenLoopDelayMs', 1],
      ['server CPU (% of a core)', 'serverCpuPct', 1],
      ['load-gen CPU (%)', 'loadgenCpuPct', 0],
      ['machine softirq (% of a core)', 'softirqPct', 0],
      ['other processes CPU (%)', 'otherCpuPct', 0],
    ],
    targets: [{ key: 'cpuPerDeliveryUs', vs: 'ws', max: 1.1 }],
  },
  'idle-memory': {
    title: (o) => `Idle memory: ${o.idle} idle connections, server memory after GC (before vs after)`,
    run: (opts, key) =>
      withSetup(opts, key, async ({ server, workers }) => {
        // Warm-up: JIT the connection path and let the heap settle before the baseline.
        await connectSpread(workers, 200, null)
        await Promise.all(workers.map((w) => w.call('closeAll', {}, 60000)))
        await sleep(1000)
        const m0 = await server.call('mem', {}, 30000)
        const c = await connectSpread(workers, opts.idle, null, 100)
        await sleep(2000)
        const m1 = await server.call('mem', {}, 30000)
        const n = c.ok || 1
        const kib = (a, b) => (b - a) / 1024 / n
        return {
          connections: c.ok,
          connectFailures: c.failed,
          rssKiBPerConn: kib(m0.rss, m1.rss),
          heapKiBPerConn: kib(m0.heapUsed, m1.heapUsed),
          heapExtKiBPerConn: kib(m0.heapUsed + m0.external, m1.heapUsed + m1.external),
          rssBeforeMiB: m0.rss / 2 ** 20,
          rssAfterMiB: m1.rss / 2 ** 20,
          before: m0,
          after: m1,
        }
      }),
    rows: [
      ['RSS / connection (KiB)', 'rssKiBPerConn', 1],
      ['heap+external / connection (KiB)', 'heapExtKiBPerConn', 1],
      ['RSS before (MiB)', 'rssBeforeMiB', 1],
      ['RSS after (MiB)', 'rssAfterMiB', 1],
      ['connections', 'connections', 0],
    ],
    targets: [{ key: 'rssKiBPerConn', vs: 'ws', max: 1.2 }],
  },
  'connect-mix': {
    title: (o) =>
      `Connect cost, interleaved: ${o['mix-rounds']} rounds x ${o['mix-batch']} connections per server (no auth unless SB + JWT), ` +
      `servers alternating, 50 in flight`,
    runAll: (opts, keys) => connectMix(opts, keys, SERVERS),
    rows: [
      ['server CPU / connect (ms)', 'cpuPerConnectMs', 3],
      ['  user / sys (ms)', 'userSysPerConnectMs', 3],
      ['median of per-round ratios to ws', 'medianRoundRatioToWs', 2],
      ['connections', 'connections', 0],
    ],
    targets: [{ key: 'cpuPerConnectMs', vs: 'ws', max: 1.2 }],
  },
  connect: {
    title: (o) => `Connect cost: ${o.connects} connections (no auth), 50 in flight, after 1000 warm-up connects`,
    run: (opts, key) =>
      withSetup(opts, key, async ({ server, workers }) => {
        await connectSpread(workers, 1000, null) // warm: JIT the handshake path
        await Promise.all(workers.map((w) => w.call('closeAll', {}, 60000)))
        await sleep(1000)
        const mc0 = machineCpu()
        const s0 = await server.call('cpu')
        const c = await connectSpread(workers, opts.connects, null, 50)
        const s1 = await server.call('cpu')
        const mc1 = machineCpu()
        const d = cpuDelta(s0, s1)
        const lg = mc0 && mc1 ? mc1.busyMs - mc0.busyMs - (mc1.softirqMs - mc0.softirqMs) - d.cpuUs / 1000 : null
        return {
          connections: c.ok,
          connectFailures: c.failed,
          cpuPerConnectMs: d.cpuUs / 1000 / (c.ok || 1),
          userSysPerConnectMs: [d.userUs / 1000 / (c.ok || 1), d.sysUs / 1000 / (c.ok || 1)],
          connectsPerSec: c.ok / (c.ms / 1000),
          serverCpuPct: (d.cpuUs / 1000 / d.wallMs) * 100,
          // everything else on the machine, load generators included
          restOfMachineCpuPct: lg === null ? null : Math.max(0, (lg / d.wallMs) * 100),
        }
      }),
    rows: [
      ['server CPU / connect (ms)', 'cpuPerConnectMs', 3],
      ['  user / sys (ms)', 'userSysPerConnectMs', 3],
      ['connects / s (wall)', 'connectsPerSec', 0],
      ['server CPU (% of a core)', 'serverCpuPct', 1],
      ['load-gen + other CPU (%)', 'restOfMachineCpuPct', 0],
      ['connections', 'connections', 0],
    ],
    targets: [{ key: 'cpuPerConnectMs', vs: 'ws', max: 1.5 }],
  },
}

// ---- output ----------------------------------------------------------------------------------
function fmt(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return '-'
  if (Array.isArray(v)) return v.map((x) => fmt(x, digits)).join('/')
  if (typeof v !== 'number') return String(v)
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}
function valueOf(r, key) {
  if (!r || r.error) return null
  if (key === 'serverEluPct') return r.serverElu * 100
  if (key === 'userSys') return r.userPerDeliveryUs == null ? null : [r.userPerDeliveryUs, r.sysPerDeliveryUs]
  return r[key]
}
function ratio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null
}

/** The servers a scenario runs against: `only` on the server, `servers` on the scenario. */
function serversFor(opts, name) {
  const sc = scenarios[name]
  return opts.serverList.filter(
    (k) => (!SERVERS[k].only || SERVERS[k].only.includes(name)) && (!sc.servers || sc.servers.includes(k)),
  )
}

function printScenario(name, opts, results) {
  const sc = scenarios[name]
  const keys = serversFor(opts, name)
  const cols = [...keys.map((k) => SERVERS[k].label), 'SB/ws', 'SB/sio']
  const w0 = 34
  const w = 15
  console.log(`\n== ${sc.title(opts)}`)
  console.log('metric'.padEnd(w0) + cols.map((c) => c.padStart(w)).join(''))
  for (const [label, key, digits] of sc.rows) {
    const vals = keys.map((k) => valueOf(results[k], key))
    const sb = valueOf(results.switchboard, key)
    const single = (v) => (Array.isArray(v) ? null : v)
    const r1 = ratio(single(sb), single(valueOf(results.ws, key)))
    const r2 = ratio(single(sb), single(valueOf(results.socketio, key)))
    console.log(
      label.padEnd(w0) +
        keys
          .map((k, i) =>
            (results[k]?.error ? 'ERROR' : results[k]?.pending ? 'pending' : fmt(vals[i], digits)).padStart(w),
          )
          .join('') +
        fmt(r1, 2).padStart(w) +
        fmt(r2, 2).padStart(w),
    )
  }
  for (const t of sc.targets) {
    if (t.limit !== undefined) {
      // An absolute bound on Switchboard's own number.
      const v = valueOf(results.switchboard, t.key)
      const ok = typeof v === 'number' ? (v <= t.limit ? 'MET' : 'MISSED') : 'n/a'
      console.log(`  target: Switchboard ${t.key} <= ${t.limit}: ${fmt(v, 2)} ${ok}`)
      continue
    }
    const r = ratio(valueOf(results.switchboard, t.key), valueOf(results[t.vs], t.key))
    const verdict = r === null ? 'n/a' : r <= t.max ? 'MET' : 'MISSED'
    console.log(
      `  target: ${t.label ?? `Switchboard ${t.key} <= ${t.max}x ${SERVERS[t.vs].label}`}: ${r === null ? '-' : r.toFixed(2) + 'x'} ${verdict}`,
    )
  }
  for (const k of keys) {
    if (results[k]?.error) console.log(`  ${SERVERS[k].label}: ERROR ${results[k].error.split('\n')[0]}`)
    if (results[k]?.pending) console.log(`  ${SERVERS[k].label}: pending (${results[k].pending})`)
    if (results[k]?.errors)
      console.log(`  ${SERVERS[k].label}: ${results[k].errors} protocol/socket errors (${results[k].lastError ?? ''})`)
    if (results[k]?.connectFailures)
      console.log(`  ${SERVERS[k].label}: ${results[k].connectFailures} failed connections`)
    const e = results[k]?.expectedDeliveries
    if (e && results[k].delivered < e * 0.9)
      console.log(`  ${SERVERS[k].label}: delivered ${results[k].delivered} of ~${Math.round(e)} expected`)
    if (results[k]?.stalls)
      console.log(`  ${SERVERS[k].label}: ${results[k].stalls} window stalls (lost publications?)`)
    const lg = results[k]?.loadgenCpuPct
    const other = results[k]?.otherCpuPct
    if (other > 25)
      console.log(
        `  ${SERVERS[k].label}: other processes used ${other.toFixed(0)}% CPU during the window (noisy machine; rerun)`,
      )
    if (Array.isArray(lg) && lg.some((x) => x > 90))
      console.log(`  ${SERVERS[k].label}: load generator saturated (${lg.join('/')}% CPU); numbers may be client-bound`)
  }
}

// ---- main -----------------------------------------------------------------------------------
async function switchboardAvailable() {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('@switchboard/server')"], {
    cwd: here,
    encoding: 'utf8',
    timeout: 20000,
  })
  if (r.status === 0) return null
  const line = (r.stderr || '').split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`
  return `@switchboard/server cannot be imported (${line.trim()}); run \`npm run build\``
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  // A hard bound on the whole run, whatever happens.
  setTimeout(
    () => {
      console.error('bench: global time limit reached, killing everything')
      killAllChildren()
      process.exit(2)
    },
    30 * 60 * 1000,
  ).unref()

  const machine = machineInfo()
  const fdNeeded = Math.max(opts.idle, opts.connects, opts.subs, opts.rooms * opts['room-size']) / opts.workers + 200
  if (machine.ulimitN !== null && fdNeeded > machine.ulimitN) {
    const max = Math.floor((machine.ulimitN - 200) * opts.workers)
    console.error(
      `ulimit -n is ${machine.ulimitN}: capping connection counts at ${max} (raise it with \`ulimit -n\` or use --workers)`,
    )
    for (const k of ['idle', 'connects', 'subs']) opts[k] = Math.min(opts[k], max)
  }
  console.log(
    `Switchboard bench: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memTotalGiB} GiB, node ${machine.node}, ` +
      `ws ${machine.versions.ws}, socket.io ${machine.versions['socket.io']}, load avg ${machine.loadavg.join(' ')}`,
  )

  if (opts.nice < 0) {
    try {
      const probe = spawnSync('nice', ['-n', String(opts.nice), 'true'])
      if (probe.status !== 0 || /cannot set niceness/i.test(String(probe.stderr)))
        throw new Error(String(probe.stderr).trim())
    } catch (err) {
      console.log(`! cannot raise priority (${err.message || 'not permitted'}); running at normal priority`)
      opts.nice = 0
    }
  }
  const sbUnavailable = opts.serverList.includes('switchboard') ? await switchboardAvailable() : null
  if (sbUnavailable) console.log(`! Switchboard column pending: ${sbUnavailable}`)

  const t0 = Date.now()
  const results = {}
  for (const name of opts.scenarios) {
    const keys = serversFor(opts, name)
    const runs = Object.fromEntries(keys.map((k) => [k, []]))
    if (scenarios[name].runAll) {
      // Every server at once (connect-mix): one run covers them all.
      for (let rep = 0; rep < opts.repeat; rep++) {
        process.stdout.write(`  ${name} / ${keys.map((k) => SERVERS[k].label).join(', ')} ... `)
        const ts = Date.now()
        try {
          const background = opts['quiet-wait'] > 0 ? await waitForQuiet(opts['quiet-wait']) : null
          opts.currentScenario = name
          const all = await scenarios[name].runAll(opts, keys)
          for (const k of keys) runs[k].push({ ...all[k], backgroundCpuPct: background })
          console.log(
            `done in ${((Date.now() - ts) / 1000).toFixed(1)} s${background === null ? '' : ` (background load before: ${background.toFixed(0)}% of a core)`}`,
          )
        } catch (err) {
          for (const k of keys) runs[k].push({ error: String(err?.stack ?? err) })
          console.log(`FAILED: ${String(err?.message ?? err).split('\n')[0]}`)
        }
        killAllChildren()
        await sleep(500)
      }
    }
    for (let rep = 0; rep < (scenarios[name].runAll ? 0 : opts.repeat); rep++) {
      // Rotate the order on every repetition so slow drifts of the background load spread evenly.
      for (const key of keys.map((_, i) => keys[(i + rep) % keys.length])) {
        const def = SERVERS[key]
        if (key === 'switchboard' && sbUnavailable) {
          runs[key].push({ pending: 'server does not build/import yet' })
          continue
        }
        process.stdout.write(
          `  ${name} / ${def.label}${opts.repeat > 1 ? ` (run ${rep + 1}/${opts.repeat})` : ''} ... `,
        )
        const ts = Date.now()
        try {
          const background = opts['quiet-wait'] > 0 ? await waitForQuiet(opts['quiet-wait']) : null
          opts.currentScenario = name
          runs[key].push({ ...(await scenarios[name].run(opts, key)), backgroundCpuPct: background })
          console.log(
            `done in ${((Date.now() - ts) / 1000).toFixed(1)} s${background === null ? '' : ` (background load before: ${background.toFixed(0)}% of a core)`}`,
          )
        } catch (err) {
          runs[key].push({ error: String(err?.stack ?? err) })
          console.log(`FAILED: ${String(err?.message ?? err).split('\n')[0]}`)
        }
        killAllChildren() // belt and braces: nothing from this pair survives into the next
        await sleep(500)
      }
    }
    results[name] = Object.fromEntries(keys.map((k) => [k, aggregate(runs[k])]))
    ;(scenarios[name].print ?? printScenario)(name, opts, results[name])
    if (opts.repeat > 1) {
      const headline = scenarios[name].rows[0]
      for (const k of keys) {
        const vals = runs[k].map((r) => valueOf(r, headline[1])).filter((v) => typeof v === 'number')
        if (vals.length)
          console.log(
            `  ${SERVERS[k].label} ${headline[0]} per run: ${vals.map((v) => fmt(v, headline[2])).join(', ')}`,
          )
      }
    }
  }
  const totalS = (Date.now() - t0) / 1000
  console.log(`\nTotal ${totalS.toFixed(0)} s. Raw results: ${opts.out}`)

  const { scenarios: _s, serverList: _l, currentScenario: _c, out, ...options } = opts
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { ...machine, loadavgEnd: os.loadavg().map((x) => +x.toFixed(2)) },
        options,
        durationS: totalS,
        notes: {
          cpu: 'server process.cpuUsage() delta (user+system, all threads) over the measured window, divided by deliveries counted by the load generators',
          latency:
            'publisher stamps performance.timeOrigin+performance.now(); subscribers in the same process (worker 0) record receive time minus stamp',
          memory:
            'server memoryUsage() after 4x gc() before and after opening the idle connections; rss delta is the headline number',
        },
        results,
      },
      null,
      2,
    ) + '\n',
  )
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err?.stack ?? err)
    killAllChildren()
    process.exit(1)
  },
)
