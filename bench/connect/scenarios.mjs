// Connect cost, interleaved (bench/run.mjs --only connect-mix): every server of the run is up at
// once, each with its own load generator, and the rounds alternate between them: `--mix-batch`
// connections to one server (its CPU read before and after, inside the server), then to the
// next, the order rotated every round; the connections are closed between rounds, outside the
// measurement. On a shared machine the background load drifts over seconds; alternating in
// small batches gives every server the same drift, so the ratio holds where separate runs
// differ by ±20%. Reported: CPU per connect per server over all rounds, and the median of the
// per-round ratios to raw ws.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startChild } from '../lib/ipc.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const bench = dirname(here)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export const connectMixDefaults = {
  'mix-rounds': 12,
  'mix-batch': 1000,
}

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y)
  return a.length ? (a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2) : null
}

/**
 * `servers`: { key: { label, file, args, client, token? } } for every server of the run.
 * Runs once for all of them (the parent calls it for the first key; see run.mjs).
 */
export async function connectMix(opts, keys, servers) {
  const up = []
  try {
    for (const key of keys) {
      const def = servers[key]
      const server = await startChild(join(bench, def.file), {
        args: def.args,
        execArgv: ['--expose-gc', ...opts['node-flags'].split(' ').filter(Boolean)],
        name: `${key} server`,
        nice: opts.nice,
        rt: opts.rt,
      })
      const worker = await startChild(join(bench, 'loadgen', 'worker.mjs'), {
        name: `${key} loadgen`,
        nice: opts.nice,
        rt: opts.rt,
      })
      up.push({ key, server, worker })
      await worker.call('init', { kind: def.client, port: server.info.port, token: def.token })
    }
    const cpuUs = (a, b) => b.cpu.user + b.cpu.system - (a.cpu.user + a.cpu.system)
    const totals = Object.fromEntries(keys.map((k) => [k, { cpuUs: 0, userUs: 0, sysUs: 0, connects: 0 }]))
    const perRound = Object.fromEntries(keys.map((k) => [k, []]))
    for (let round = -1; round < opts['mix-rounds']; round++) {
      const order = up.map((_, i) => up[(i + Math.max(round, 0)) % up.length])
      for (const { key, server, worker } of order) {
        const s0 = await server.call('cpu')
        const c = await worker.call('connect', { count: opts['mix-batch'], concurrency: 50 }, 120_000)
        const s1 = await server.call('cpu')
        await worker.call('closeAll', {}, 60_000)
        if (round < 0) continue // warm-up round: JIT the handshake path
        if (c.failed) throw new Error(`${key}: ${c.failed} connections failed: ${c.firstError}`)
        const t = totals[key]
        t.cpuUs += cpuUs(s0, s1)
        t.userUs += s1.cpu.user - s0.cpu.user
        t.sysUs += s1.cpu.system - s0.cpu.system
        t.connects += c.ok
        perRound[key].push(cpuUs(s0, s1) / 1000 / c.ok)
      }
      await sleep(200)
    }
    const out = {}
    for (const key of keys) {
      const t = totals[key]
      const ratios = perRound.ws ? perRound[key].map((v, i) => v / perRound.ws[i]) : []
      out[key] = {
        connections: t.connects,
        cpuPerConnectMs: t.cpuUs / 1000 / t.connects,
        userSysPerConnectMs: [t.userUs / 1000 / t.connects, t.sysUs / 1000 / t.connects],
        medianRoundRatioToWs: perRound.ws ? median(ratios) : null,
        perRoundMs: perRound[key],
      }
    }
    return out
  } finally {
    for (const { server, worker } of up) {
      await worker.stop().catch(() => {})
      await server.stop().catch(() => {})
    }
  }
}
