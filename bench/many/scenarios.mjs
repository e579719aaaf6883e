// Many idle connections in one server process (bench/run.mjs --only many-idle).
//
// `--many` connections (100,000), each subscribed to a channel of its own, opened by
// `--many-workers` lean load generators from many loopback source addresses (127.<10+w>.0.<n>,
// `--many-per-source` connections each: every source address has its own ephemeral ports, so
// the ~28,000 of one address do not run out). The server and the load generators are started
// with their open-files limit raised through `prlimit --nofile` (what `ulimit -n` does in a
// shell; docs/tuning.md). Then, with heartbeats on (each server's default unless
// `--many-heartbeat interval,timeout` is given for Switchboard):
//   1. memory: server RSS (after GC) before and after the connections are open, per connection;
//   2. heartbeats: server CPU over `--many-hb-window` s with nothing else happening, and the pings
//      the clients answered;
//   3. a publication to one of them: `--many-pub-rate` publications/s to random channels (one
//      subscriber each) for `--many-pub-window` s; latency p50/p99/max at the subscriber.
// The publications and their subscribers (`--many-probes` of the connections) live in a probe
// process of their own, run at the server's priority: the idle load generators answering
// thousands of pings at once stand in for clients on other machines, and their queues must not
// be what the latency measures. The idle ones run at ordinary priority.
// Every wait is bounded; the connections are dropped without close handshakes at the end.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startChild } from '../lib/ipc.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const bench = dirname(here)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export const manyDefaults = {
  many: 100_000, // connections
  'many-workers': 2, // load-generator processes for the idle connections
  'many-probes': 100, // connections (of --many) in the probe process, the publications' targets
  'many-per-source': 10_000, // connections per loopback source address
  'many-settle': 15, // s after connecting before the heartbeat window (V8 shrinks its heap then)
  'many-hb-window': 30, // s, heartbeat window (3 of Switchboard's default 10 s intervals)
  'many-pub-rate': 100, // publications/s in the latency window
  'many-pub-window': 10, // s
  'many-heartbeat': '', // Switchboard's server.heartbeat as "intervalMs,timeoutMs" (default: its own)
}

const SERVERS = {
  ws: { file: 'servers/raw-ws.mjs', client: 'raw', heartbeat: 'none (raw ws sends no pings)' },
  socketio: { file: 'servers/socketio.mjs', client: 'socketio', heartbeat: 'pingInterval 25 s (default)' },
  switchboard: { file: 'servers/switchboard.mjs', client: 'switchboard', heartbeat: 'every 10 s (default)' },
  // --base: another build of the server (bench/run.mjs), before/after in the same run
  'switchboard-base': { file: 'servers/switchboard.mjs', client: 'switchboard', heartbeat: 'every 10 s (default)' },
}

/** Whole-machine busy CPU (ms, softirq apart), for the "other processes" noise figure. */
function machineBusyMs(readFile) {
  try {
    const f = readFile('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const total = f.reduce((a, b) => a + b, 0)
    return ((total - f[3] - (f[4] || 0) - (f[6] || 0)) / 100) * 1000
  } catch {
    return null
  }
}

/** This shell's open-files limits: [soft, hard]. */
function fileLimits() {
  const read = (flag) => Number(spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim())
  return [read('-Sn'), read('-Hn')]
}

/**
 * The open-files limit a child needs for `fds` descriptors: 0 (leave it) when the current one is
 * enough; an error naming the hard limit when it cannot be raised (that needs root with
 * CAP_SYS_RESOURCE, or a higher hard limit from the system: docs/tuning.md).
 */
function nofileFor(fds) {
  const [soft, hard] = fileLimits()
  if (fds <= soft) return 0
  if (fds <= hard) return fds
  // Above the hard limit only a process with CAP_SYS_RESOURCE may go (root, usually): try it.
  const probe = spawnSync('prlimit', [`--nofile=${fds}:${fds}`, 'true'], { encoding: 'utf8' })
  if (probe.status === 0) return fds
  throw new Error(
    `needs ${fds} open files, the hard limit is ${hard} (ulimit -Hn) and it cannot be raised here ` +
      `(${(probe.stderr || probe.error?.message || '').trim()}); use --many below ${hard - 1000} or see docs/tuning.md`,
  )
}

async function withMany(opts, key, fn) {
  const def = SERVERS[key]
  const n = opts.many
  const workerCount = opts['many-workers']
  const perWorker = Math.ceil((n - opts['many-probes']) / workerCount)
  // Descriptors: one per connection, plus what Node itself opens (~30) and some slack.
  const serverFiles = nofileFor(n + 1000)
  const workerFiles = nofileFor(perWorker + 1000)
  const args = opts['loop-delay'] ? ['--loop-stats'] : []
  if (key === 'switchboard-base') args.push(`--module=${opts.base}`)
  if (key.startsWith('switchboard') && opts['many-heartbeat']) args.push(`--heartbeat=${opts['many-heartbeat']}`)
  const server = await startChild(join(bench, def.file), {
    args,
    execArgv: ['--expose-gc', ...opts['node-flags'].split(' ').filter(Boolean)],
    name: `${key} server`,
    nice: opts.nice,
    rt: opts.rt,
    nofile: serverFiles,
  })
  const workers = []
  let probe
  try {
    for (let i = 0; i < workerCount; i++) {
      workers.push(
        await startChild(join(bench, 'loadgen', 'worker.mjs'), {
          name: `loadgen ${i}`,
          // Ordinary priority: clients on other machines, in effect. (At real-time priority a load
          // generator answering thousands of pings may never sleep and meets RLIMIT_RTTIME.)
          nice: 0,
          nofile: workerFiles,
        }),
      )
    }
    probe = await startChild(join(bench, 'loadgen', 'worker.mjs'), { name: 'probe', nice: opts.nice, rt: opts.rt })
    await Promise.all([...workers, probe].map((w) => w.call('init', { kind: def.client, port: server.info.port })))
    return await fn({ server, workers, probe, perWorker, def })
  } finally {
    const all = probe ? [...workers, probe] : workers
    await Promise.allSettled(all.map((w) => w.call('destroyAll', {}, 60_000)))
    await Promise.allSettled(all.map((w) => w.stop()))
    await server.stop(10_000)
  }
}

export function manyScenarios({ readFile }) {
  return {
    'many-idle': {
      servers: ['ws', 'socketio', 'switchboard', 'switchboard-base'],
      title: (o) =>
        `Many idle connections: ${o.many} in one server process, each subscribed to its own channel, ` +
        `from ${Math.ceil(o.many / o['many-per-source'])} loopback source addresses, heartbeats on; ` +
        `then ${o['many-pub-rate']} publications/s to random ones`,
      run: (opts, key) =>
        withMany(opts, key, async ({ server, workers, probe, perWorker, def }) => {
          const rooms = (w, count) => Array.from({ length: count }, (_, i) => `idle/${w}/${i}`)
          // Warm-up: JIT the connect and subscribe path, then the memory baseline.
          await Promise.all(
            workers.map((w, j) => w.call('connect', { count: 200, rooms: rooms(`warm${j}`, 200) }, 60_000)),
          )
          await Promise.all(workers.map((w) => w.call('destroyAll', {}, 60_000)))
          await sleep(2000)
          const m0 = await server.call('mem', {}, 60_000)

          // Connect everything, each worker from its own source addresses.
          const t0 = Date.now()
          const idleTotal = opts.many - opts['many-probes']
          const probeSubs = probe.call(
            'connect',
            {
              count: opts['many-probes'],
              rooms: rooms('probe', opts['many-probes']),
              sources: ['127.9.0.1'],
              perSource: 1e9,
            },
            120_000,
          )
          const results = await Promise.all(
            workers.map((w, j) => {
              const count = Math.min(perWorker, idleTotal - j * perWorker)
              const sources = Array.from(
                { length: Math.ceil(count / opts['many-per-source']) },
                (_, k) => `127.${10 + j}.0.${1 + k}`,
              )
              return w.call(
                'connect',
                {
                  count,
                  rooms: rooms(j, count),
                  concurrency: 100,
                  sources,
                  perSource: opts['many-per-source'],
                  limitMs: 900_000,
                },
                960_000,
              )
            }),
          )
          results.push(await probeSubs)
          const connectS = (Date.now() - t0) / 1000
          const connected = results.reduce((a, r) => a + r.ok, 0)
          const failed = results.reduce((a, r) => a + r.failed, 0)
          if (failed)
            console.error(`    ! ${failed} connections failed: ${results.find((r) => r.firstError)?.firstError}`)
          await sleep(2000)
          const m1 = await server.call('mem', {}, 120_000)
          const serverStats = await server.call('stats')

          // After a burst of allocation V8's memory reducer runs a few full GCs; let that pass.
          await sleep(opts['many-settle'] * 1000)
          // Heartbeats: nothing but the server's own timers and the clients' answers.
          const everyone = [...workers, probe]
          const c0 = await Promise.all(everyone.map((w) => w.call('counters')))
          const busy0 = machineBusyMs(readFile)
          const s0 = await server.call('cpu')
          await Promise.all(everyone.map((w) => w.call('mark')))
          await sleep(opts['many-hb-window'] * 1000)
          const s1 = await server.call('cpu')
          const lg = await Promise.all(everyone.map((w) => w.call('report')))
          const busy1 = machineBusyMs(readFile)
          const c1 = await Promise.all(everyone.map((w) => w.call('counters')))
          const hbMs = s1.t - s0.t
          const hbCpuMs = (s1.cpu.user + s1.cpu.system - s0.cpu.user - s0.cpu.system) / 1000
          const pings = c1.reduce((a, c) => a + c.pings, 0) - c0.reduce((a, c) => a + c.pings, 0)
          const lgCpuMs = lg.reduce((a, r) => a + (r.loadgenCpuPct / 100) * r.elapsedMs, 0)
          const otherPct = busy0 !== null && busy1 !== null ? ((busy1 - busy0 - hbCpuMs - lgCpuMs) / hbMs) * 100 : null

          // Publications to single subscribers, with the heartbeats still going.
          const w0 = probe
          await w0.call('publisher')
          const targets = rooms('probe', results[results.length - 1].ok)
          await w0.call('startRate', { rate: opts['many-pub-rate'], rooms: targets, payloadBytes: opts.payload })
          await sleep(2000)
          await w0.call('mark')
          const p0 = await server.call('cpu')
          await sleep(opts['many-pub-window'] * 1000)
          const p1 = await server.call('cpu')
          const pub = await w0.call('report')
          await w0.call('stopPublish', {}, 20_000)

          const per = (a, b) => (b - a) / 1024 / (connected || 1)
          return {
            connections: connected,
            connectFailures: failed,
            connectS,
            connectsPerSec: connected / connectS,
            serverConnections: serverStats.connections ?? null,
            heartbeat: key.startsWith('switchboard') && opts['many-heartbeat'] ? opts['many-heartbeat'] : def.heartbeat,
            rssKiBPerConn: per(m0.rss, m1.rss),
            heapExtKiBPerConn: per(m0.heapUsed + m0.external, m1.heapUsed + m1.external),
            rssAfterMiB: m1.rss / 2 ** 20,
            loadgenRssMiB: c1.map((c) => Math.round(c.rss / 2 ** 20)),
            hbCpuPct: (hbCpuMs / hbMs) * 100,
            pingsPerSec: pings / (hbMs / 1000),
            cpuUsPerPing: pings > 0 ? (hbCpuMs * 1000) / pings : null,
            otherCpuPct: otherPct === null ? null : Math.max(0, otherPct),
            pubDelivered: pub.delivered,
            pubPublished: pub.published,
            pubP50Ms: pub.latency.p50Ms ?? null,
            pubP99Ms: pub.latency.p99Ms ?? null,
            pubMaxMs: pub.latency.maxMs ?? null,
            ...(s1.loop
              ? {
                  hbLoop: [s1.loop.p99Ms, s1.loop.maxMs],
                  hbGc: [s1.loop.gcCount, s1.loop.gcMajor, s1.loop.gcMaxMs],
                  pubLoop: [p1.loop.p99Ms, p1.loop.maxMs],
                  pubGc: [p1.loop.gcCount, p1.loop.gcMajor, p1.loop.gcMaxMs],
                }
              : {}),
            pubServerCpuPct: ((p1.cpu.user + p1.cpu.system - p0.cpu.user - p0.cpu.system) / 1000 / (p1.t - p0.t)) * 100,
            errors: c1.reduce((a, c) => a + c.errors, 0) - c0.reduce((a, c) => a + c.errors, 0),
            lastError: c1.find((c) => c.lastError)?.lastError,
          }
        }),
      rows: [
        ['connections open', 'connections', 0],
        ['connect phase (s)', 'connectS', 1],
        ['server RSS / connection (KiB)', 'rssKiBPerConn', 2],
        ['heap+external / connection (KiB)', 'heapExtKiBPerConn', 2],
        ['server RSS after (MiB)', 'rssAfterMiB', 0],
        ['idle server CPU, heartbeats (% core)', 'hbCpuPct', 2],
        ['pings answered / s', 'pingsPerSec', 0],
        ['server CPU / ping (µs)', 'cpuUsPerPing', 1],
        ['publish → subscriber p50 (ms)', 'pubP50Ms', 2],
        ['publish → subscriber p99 (ms)', 'pubP99Ms', 2],
        ['publish → subscriber max (ms)', 'pubMaxMs', 1],
        ['deliveries in the window', 'pubDelivered', 0],
        ['heartbeat window: loop delay p99/max', 'hbLoop', 1],
        ['  GC count/major/max ms', 'hbGc', 1],
        ['publish window: loop delay p99/max', 'pubLoop', 1],
        ['  GC count/major/max ms', 'pubGc', 1],
        ['load-gen RSS (MiB)', 'loadgenRssMiB', 0],
        ['other processes CPU (%)', 'otherCpuPct', 0],
      ],
      targets: [
        { key: 'rssKiBPerConn', limit: 8 },
        { key: 'hbCpuPct', limit: 5 },
        { key: 'pubP99Ms', limit: 5 },
      ],
    },
  }
}
