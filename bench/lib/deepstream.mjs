// deepstream.io 7 for the bench, over its `ws` WebSocket endpoint (ws-binary: the
// uWebSockets.js endpoint needs a GitHub-only package), with its default in-memory storage and
// cache, no auth, no permissions. Shared by the RPC and records scenarios.
import { createServer } from 'node:net'

/** Starts deepstream on a free loopback port; resolves to `{ port, close }`. */
export async function startDeepstream() {
  const { Deepstream } = await import('@deepstream/server')
  // deepstream takes a fixed port: find a free one first.
  const port = await new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const p = probe.address().port
      probe.close(() => resolve(p))
    })
  })
  const server = new Deepstream({
    serverName: 'bench',
    showLogo: false,
    logLevel: 'OFF',
    logger: { type: 'default', options: { logLevel: 'OFF' } },
    connectionEndpoints: [
      { type: 'ws-binary', options: { urlPath: '/deepstream', heartbeatInterval: 30000, maxMessageSize: 1048576 } },
    ],
    httpServer: { type: 'default', options: { port, host: '127.0.0.1' } },
    monitoring: { type: 'none' },
    telemetry: { type: 'deepstreamIO', options: { enabled: false } },
  })
  await new Promise((resolve, reject) => {
    server.once('started', resolve)
    server.once('error', reject)
    server.start()
  })
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        server.once('stopped', resolve)
        server.stop()
      }),
  }
}
