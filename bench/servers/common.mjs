// Shared control plane of the benchmark servers. The parent talks to a server over IPC only:
// the measurements (CPU, event-loop utilisation, memory) are read inside the server process.
import { performance } from 'node:perf_hooks'
import { serveIpc } from '../lib/ipc.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * `start()` resolves to `{ port, close(): Promise<void>, stats?(): object, info?: object }`.
 */
export async function runServer(name, start) {
  let srv
  serveIpc({
    cpu: () => ({ cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), t: performance.now() }),
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
