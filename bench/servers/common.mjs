// Shared control plane of the benchmark servers. The parent talks to a server over IPC only:
// the measurements (CPU, event-loop utilisation, memory) are read inside the server process.
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks'
import { readdirSync, readFileSync } from 'node:fs'
import { serveIpc } from '../lib/ipc.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// `--loop-stats` (bench/run.mjs --loop-delay): an event-loop delay histogram (1 ms resolution,
// so it adds a 1 ms timer: off by default, the CPU figures are read without it) and GC pauses,
// both reset at every `cpu` call, so the second call of a window reports that window.
const loopStats = process.argv.includes('--loop-stats')
const loop = loopStats ? monitorEventLoopDelay({ resolution: 1 }) : null
const gcStats = { count: 0, totalMs: 0, maxMs: 0, major: 0 }
if (loopStats) {
  loop.enable()
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcStats.count++
      gcStats.totalMs += e.duration
      if (e.duration > gcStats.maxMs) gcStats.maxMs = e.duration
      if (e.detail?.kind !== undefined && e.detail.kind !== 1) gcStats.major++ // 1: scavenge
    }
  }).observe({ entryTypes: ['gc'] })
}
function takeLoopStats() {
  if (!loop) return undefined
  const ms = (ns) => ns / 1e6
  const r = {
    p50Ms: ms(loop.percentile(50)),
    p99Ms: ms(loop.percentile(99)),
    maxMs: ms(loop.max),
    gcCount: gcStats.count,
    gcMajor: gcStats.major,
    gcTotalMs: gcStats.totalMs,
    gcMaxMs: gcStats.maxMs,
  }
  loop.reset()
  Object.assign(gcStats, { count: 0, totalMs: 0, maxMs: 0, major: 0 })
  return r
}

/** CPU time (ms, user + system) of this process's threads by name, from /proc (Linux only). */
function threadCpu() {
  if (!loopStats) return undefined
  try {
    const out = {}
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const name = stat
        .slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
        .replace(/\d+$/, '')
        .trim()
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const ms = ((Number(f[11]) + Number(f[12])) / 100) * 1000 // utime + stime, USER_HZ = 100
      const key = tid === String(process.pid) ? 'main' : name
      out[key] = (out[key] ?? 0) + ms
    }
    return out
  } catch {
    return undefined
  }
}

/**
 * `start()` resolves to `{ port, close(): Promise<void>, stats?(): object, info?: object }`.
 */
export async function runServer(name, start) {
  let srv
  serveIpc({
    cpu: () => ({
      cpu: process.cpuUsage(),
      elu: performance.eventLoopUtilization(),
      t: performance.now(),
      loop: takeLoopStats(),
      threads: threadCpu(),
    }),
    mem: async ({ rounds = 4 } = {}) => {
      if (typeof globalThis.gc !== 'function') throw new Error('server not started with --expose-gc')
      // Several full GCs with pauses in between let finalizers and weak callbacks run.
      for (let i = 0; i < rounds; i++) {
        globalThis.gc()
        await sleep(100)
      }
      return process.memoryUsage()
    },
    stats: () => (srv?.stats ? srv.stats() : {}),
    stop: async () => {
      const t = setTimeout(() => process.exit(0), 2000)
      try {
        await srv?.close()
      } finally {
        clearTimeout(t)
        setImmediate(() => process.exit(0))
      }
    },
  })
  try {
    srv = await start()
  } catch (err) {
    process.send?.({ type: 'fatal', error: String(err?.stack ?? err) })
    setTimeout(() => process.exit(1), 100)
    return
  }
  process.send?.({ type: 'ready', name, port: srv.port, info: srv.info ?? {} })
}
