// RPC and presence scenarios, in the shape bench/run.mjs uses for its own (title, run, rows,
// targets). Each run starts its own server child (an RPC relay per system) and one
// load-generator child, so the fan-out scenarios' setup is untouched.
//
//   rpc:      client → server → provider client → back. p50/p99 of `--rpc-calls` sequential
//             calls (with server CPU per call), then `--rpc-inflight` calls outstanding for
//             `--duration` s: calls/s and server CPU per call.
//   presence: `--presence-members` clients watch one room, then all join it (`--presence-rate`
//             joins/ms); server CPU from the first join until every member's view shows every
//             member, and how long after the last join that was.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startChild } from '../lib/ipc.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const bench = dirname(here)

export const rpcDefaults = {
  'rpc-calls': 2000,
  'rpc-inflight': 100,
  'presence-members': 1000,
  'presence-rate': 1, // joins per ms
}

/** Servers of these scenarios: the RPC relay each system runs, and the client kind that drives it. */
export const rpcServerDefs = {
  ws: { file: join(here, 'servers', 'rpc-ws.mjs'), client: 'sb' },
  socketio: { file: join(here, 'servers', 'rpc-socketio.mjs'), client: 'socketio' },
  deepstream: { file: join(here, 'servers', 'rpc-deepstream.mjs'), client: 'deepstream' },
  switchboard: { file: join(bench, 'servers', 'switchboard.mjs'), client: 'sb' },
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function withPair(opts, key, fn) {
  const def = rpcServerDefs[key]
  if (!def) throw new Error(`no RPC relay for ${key}`)
  const pinned = opts.pin
  const server = await startChild(def.file, {
    // --profile: a V8 CPU profile of the server (whole run, warm-up included), as bench/run.mjs does.
    execArgv: opts.profile
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${join(dirname(opts.out ?? join(bench, 'results', 'x')), 'profiles')}`,
          `--cpu-prof-name=${opts.currentScenario ?? 'rpc'}-${key}-${Date.now()}.cpuprofile`,
        ]
      : [],
    name: `${key} rpc server`,
    pinCpu: pinned ? 0 : undefined,
    nice: opts.nice ?? 0,
  })
  let worker
  try {
    worker = await startChild(join(here, 'loadgen', 'rpc-worker.mjs'), {
      name: 'rpc loadgen',
      pinCpu: pinned ? 1 : undefined,
      nice: opts.nice ?? 0,
    })
    await worker.call('init', { kind: def.client, port: server.info.port, payloadBytes: opts.payload })
    return await fn({ server, worker })
  } finally {
    await worker?.call('closeAll', {}, 60_000).catch(() => {})
    await worker?.stop()
    await server.stop()
  }
}

const cpuUs = (a, b) => b.cpu.user + b.cpu.system - (a.cpu.user + a.cpu.system)

export const rpcScenarios = {
  rpc: {
    servers: ['ws', 'socketio', 'deepstream', 'switchboard'],
    title: (o) =>
      `RPC round trip (client → server → provider client → back), ${o.payload} B args echoed: ` +
      `${o['rpc-calls']} sequential calls, then ${o['rpc-inflight']} in flight for ${o.duration} s`,
    run: (opts, key) =>
      withPair(opts, key, async ({ server, worker }) => {
        await worker.call('rpcConnect', {}, 30_000)
        await worker.call('warmup', { calls: 2000 }, 120_000)
        const s0 = await server.call('cpu')
        const seq = await worker.call('sequential', { n: opts['rpc-calls'] }, 300_000)
        const s1 = await server.call('cpu')
        await sleep(200)
        const t0 = await server.call('cpu')
        const tp = await worker.call(
          'throughput',
          { seconds: opts.duration, inFlight: opts['rpc-inflight'] },
          (opts.duration + 60) * 1000,
        )
        const t1 = await server.call('cpu')
        await worker.call('rpcClose', {}, 30_000)
        const callsPerSec = tp.calls / (tp.elapsedMs / 1000)
        return {
          p50Us: seq.latency.p50Ms * 1000,
          p99Us: seq.latency.p99Ms * 1000,
          meanUs: seq.latency.meanMs * 1000,
          cpuPerCallSeqUs: cpuUs(s0, s1) / seq.calls,
          callsPerSec,
          usPerCallWall: 1e6 / callsPerSec,
          cpuPerCallUs: cpuUs(t0, t1) / tp.calls,
          serverCpuPct: (cpuUs(t0, t1) / 1000 / (t1.t - t0.t)) * 100,
          loadgenCpuPct: tp.loadgenCpuPct,
          calls: seq.calls + tp.calls,
          errors: tp.errors,
          lastError: tp.lastError,
        }
      }),
    rows: [
      ['latency p50 (µs)', 'p50Us', 0],
      ['latency p99 (µs)', 'p99Us', 0],
      ['server CPU/call, sequential (µs)', 'cpuPerCallSeqUs', 1],
      ['calls/s, 100 in flight', 'callsPerSec', 0],
      ['server CPU/call, 100 in flight (µs)', 'cpuPerCallUs', 1],
      ['server CPU (% of a core)', 'serverCpuPct', 0],
      ['load-gen CPU (%)', 'loadgenCpuPct', 0],
    ],
    targets: [
      { key: 'cpuPerCallUs', vs: 'ws', max: 1.2 },
      { key: 'p50Us', vs: 'ws', max: 1.1 },
      // throughput ≥ 1.5x deepstream.io, as wall time per call ≤ 1/1.5
      { key: 'usPerCallWall', vs: 'deepstream', max: 1 / 1.5, label: 'throughput >= 1.5x deepstream.io' },
    ],
  },

  presence: {
    servers: ['switchboard'],
    title: (o) =>
      `Presence: ${o['presence-members']} clients watch one room, then join it (${o['presence-rate']} joins/ms)`,
    run: (opts, key) =>
      withPair(opts, key, async ({ server, worker }) => {
        const room = 'bench/presence'
        const n = opts['presence-members']
        const c = await worker.call('presenceConnect', { count: n }, 180_000)
        await worker.call('presenceWatch', { room }, 60_000)
        await sleep(500)
        const s0 = await server.call('cpu')
        const r = await worker.call('presenceJoin', { room, perMs: opts['presence-rate'] }, 120_000)
        const s1 = await server.call('cpu')
        await worker.call('presenceClose', {}, 60_000)
        return {
          members: c.connected,
          completeViews: r.completeViews,
          serverCpuMs: cpuUs(s0, s1) / 1000,
          allViewsAfterLastJoinMs: r.allViewsAfterLastJoinMs,
          allViewsAfterFirstJoinMs: r.allViewsAfterFirstJoinMs,
          joinSpanMs: r.joinSpanMs,
          framesPerMember: r.frames / n,
          lastAckAfterLastJoinMs: r.lastAckAfterLastJoinMs,
          loadgenCpuMs: r.loadgenCpuMs,
          errors: r.errors,
          lastError: r.lastError,
        }
      }),
    rows: [
      ['server CPU, joins → views (ms)', 'serverCpuMs', 0],
      ['views complete after last join ms', 'allViewsAfterLastJoinMs', 0],
      ['... after first join (ms)', 'allViewsAfterFirstJoinMs', 0],
      ['joins sent over (ms)', 'joinSpanMs', 0],
      ['presence frames per member', 'framesPerMember', 1],
      ['last ack after last join (ms)', 'lastAckAfterLastJoinMs', 0],
      ['load-gen CPU, same span (ms)', 'loadgenCpuMs', 0],
      ['complete views', 'completeViews', 0],
    ],
    targets: [
      { key: 'serverCpuMs', limit: 1000 },
      { key: 'allViewsAfterLastJoinMs', limit: 2000 },
    ],
  },
}
