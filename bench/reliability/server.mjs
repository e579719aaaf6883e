// A Switchboard server in its own process for the reliability programme. Its config is the JSON
// in argv[2] (merged over loopback, memory storage and quiet logs). IPC: heap (after gc, with
// --expose-gc), cpu, publish, connections, stop.
import { performance } from 'node:perf_hooks'
import { serveIpc } from '../lib/ipc.mjs'

const extra = JSON.parse(process.argv[2] ?? '{}')
const { createServer } = await import('@switchboard/server')
const server = createServer({
  storage: { type: 'memory' },
  log: { level: 'error' },
  ...extra,
  server: { host: '127.0.0.1', port: 0, ...extra.server },
})

serveIpc({
  heap: () => {
    for (let i = 0; i < 4; i++) globalThis.gc?.()
    const m = process.memoryUsage()
    return { heapUsed: m.heapUsed, rss: m.rss, connections: server.connectionCount() }
  },
  cpu: () => ({ cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), t: performance.now() }),
  connections: () => server.connectionCount(),
  publish: async ({ channel, data }) => server.publish(channel, data),
  stop: async () => {
    const t = setTimeout(() => process.exit(0), 5000)
    await server.close().finally(() => clearTimeout(t))
    setImmediate(() => process.exit(0))
  },
})

try {
  const { port } = await server.listen()
  process.send?.({ type: 'ready', port })
} catch (err) {
  process.send?.({ type: 'fatal', error: String(err?.stack ?? err) })
  setTimeout(() => process.exit(1), 100)
}
