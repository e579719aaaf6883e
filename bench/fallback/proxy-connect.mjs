#!/usr/bin/env node
// How long a default client takes to connect behind a reverse proxy that strips WebSocket
// upgrades: a real nginx (the Debian package; scripts/ensure-test-env.sh installs it) set up as
// the `no-upgrade` proxy of tests/support/nginx.ts (a plain `proxy_pass`, which drops the
// hop-by-hop Upgrade header), in front of bench/servers/switchboard.mjs. The real
// @switchboard/client with default options (every transport, in the default order) is
// connected --connects times, one after the other; each `connect()` is timed from the
// constructor to its resolution, and the client is closed before the next. Reports every time,
// the median and the transport each one ended on (SSE is expected: WebSocket fails first).
//   node bench/fallback/proxy-connect.mjs [--connects 10]
// Run `npm run build` first. Under the bench lock, with real-time priority:
//   flock /tmp/bench.lock chrt -f 50 node bench/fallback/proxy-connect.mjs
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Switchboard } from '@switchboard/client'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'

const opts = parseOptions({ connects: 10 })
const TARGET_MS = 4000
/** Bounds every wait, so the script always ends (it may run at real-time priority). */
const GIVE_UP_MS = 30_000

const dir = mkdtempSync(join(tmpdir(), 'sb-bench-nginx-'))
let nginx
function cleanup() {
  killAllChildren()
  if (nginx && nginx.exitCode === null) nginx.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))
setTimeout(
  () => {
    console.error(`gave up after ${GIVE_UP_MS * (opts.connects + 2)} ms`)
    process.exit(1)
  },
  GIVE_UP_MS * (opts.connects + 2),
).unref()

/** tests/support/nginx.ts, setup `no-upgrade`: the same configuration, kept in step by hand. */
function noUpgradeConfig(listenPort, upstreamPort) {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 60s;
    }
  }
}
`
}

async function freePort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function listening(port) {
  const deadline = Date.now() + GIVE_UP_MS
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => resolve(true)).once('error', () => resolve(false))
      socket.once('close', () => socket.destroy())
      socket.on('connect', () => socket.end())
    })
    if (ok) return
    if (nginx.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''
  throw new Error(`nginx is not listening on ${port}: ${log}`)
}

function within(promise, ms, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer))
}

const server = await startChild(fileURLToPath(new URL('../servers/switchboard.mjs', import.meta.url)), {
  name: 'switchboard',
})
const port = await freePort()
writeFileSync(join(dir, 'nginx.conf'), noUpgradeConfig(port, server.info.port))
const binary = process.env.NGINX_PATH ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx')
nginx = spawn(binary, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] })
nginx.once('error', (err) => {
  console.error(`nginx did not start (${binary}; scripts/ensure-test-env.sh installs it): ${err.message}`)
  process.exit(1)
})
await listening(port)

const url = `http://127.0.0.1:${port}`
const runs = []
for (let i = 0; i < opts.connects; i++) {
  const start = performance.now()
  const sb = new Switchboard(url)
  await within(sb.connect(), GIVE_UP_MS, `connect ${i + 1}`)
  const ms = performance.now() - start
  runs.push({ ms, transport: sb.transport })
  await within(sb.close(), GIVE_UP_MS, `close ${i + 1}`)
}

const sorted = runs.map((r) => r.ms).sort((a, b) => a - b)
const mid = sorted.length >> 1
const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
const transports = [...new Set(runs.map((r) => r.transport))]
console.log(`Default client behind nginx stripping Upgrade: ${opts.connects} connects`)
console.log(`  each (ms): ${runs.map((r) => r.ms.toFixed(1)).join(', ')}`)
console.log(`  transport: ${transports.join(', ')}`)
console.log(
  `  median ${median.toFixed(1)} ms, max ${sorted.at(-1).toFixed(1)} ms; target: median <= ${TARGET_MS} ms: ` +
    (median <= TARGET_MS ? 'met' : 'MISSED'),
)
await server.stop()
process.exit(0)
