// The server of the recovery benchmark, in its own process: memory engine, a channel history
// big enough for the backlog, and an IPC command that publishes the backlog in-process (so
// building it costs no network round trips). CPU is read here, like the other benchmarks.
import { performance } from 'node:perf_hooks'
import { serveIpc } from '../lib/ipc.mjs'

const [historySize, maxBufferedBytes] = process.argv.slice(2).map(Number)
const { createServer } = await import('@switchboard/server')
const server = createServer({
  server: { host: '127.0.0.1', port: 0 },
  storage: { type: 'memory' },
  log: { level: 'error' },
  channels: { 'backlog/**': { history: { size: historySize } } },
  limits: { maxBufferedBytes, messagesPerSecond: 1_000_000, maxConnectionsPerIp: 1_000_000, connectsPerSecond: 0 },
})

serveIpc({
  cpu: () => ({ cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), t: performance.now() }),
  /** Publishes `count` publications of about `bytes` bytes each; returns the first one's position. */
  publish: async ({ channel, from, count, bytes }) => {
    const pad = 'x'.repeat(Math.max(0, bytes - 20))
    let first
    for (let n = from; n < from + count; n++) {
      const pos = await server.publish(channel, { n, pad })
      first ??= pos
    }
    return first
  },
  stop: async () => {
    const t = setTimeout(() => process.exit(0), 2000)
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
