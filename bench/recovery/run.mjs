#!/usr/bin/env node
// How long recovering a large backlog takes: a client misses `--mib` MiB of publications of
// `--bytes` bytes each, then resubscribes from its last position and receives them all.
//   node bench/recovery/run.mjs [--mib 50] [--bytes 1024] [--buffer 4194304] [--repeat 1]
// Two clients, each against the same server process:
//   raw: the wire protocol over `ws` — `sub` with `since`, timed until the last page arrived;
//   sdk: @switchboard/client with { recover: true } behind a TCP proxy that is cut while the
//        backlog is published, timed from the proxy coming back up until every missed
//        publication was delivered and `recovered` fired (includes the reconnect).
// Run `npm run build` first: the server and the client are imported from their builds.
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'

const opts = parseOptions({ mib: 50, bytes: 1024, buffer: 4 * 1024 * 1024, repeat: 1 })
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

const TIMEOUT_MS = 300_000
const count = Math.ceil((opts.mib * 1024 * 1024) / opts.bytes)
const server = await startChild(fileURLToPath(new URL('./server.mjs', import.meta.url)), {
  args: [String(count + 1000), String(opts.buffer)],
  name: 'recovery-server',
})
const { port } = server.info
const cpuMs = (a, b) => (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000

function withTimeout(promise, what) {
  let t
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no end within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)
    }),
  ]).finally(() => clearTimeout(t))
}

/** Raw protocol: hello, then sub with since; resolves when the recovery ended. */
async function rawRecovery(channel, since) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  let started = 0
  let pubs = 0
  let pages = 0
  let bytes = 0
  let complete
  const done = new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)))
    ws.on('message', (data) => {
      bytes += data.length
      const value = JSON.parse(data.toString())
      for (const m of Array.isArray(value) ? value : [value]) {
        if (m.t === 'welcome') {
          started = performance.now()
          ws.send(JSON.stringify({ t: 'sub', id: 2, ch: channel, since }))
        } else if (m.t === 'ok' && m.id === 2) {
          pubs += m.r.rec.pubs.length
          pages++
          if (!m.r.rec.more) complete = m.r.rec.complete
        } else if (m.t === 'recovery') {
          pubs += m.pubs.length
          pages++
          if (!m.more) complete = m.complete
        }
        if (complete !== undefined) return resolve()
      }
    })
  })
  ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1 }))
  await withTimeout(done, 'raw recovery')
  const ms = performance.now() - started
  ws.removeAllListeners('close')
  ws.terminate()
  return { ms, pubs, pages, bytes, complete }
}

/** A TCP proxy that can refuse and cut connections, for the SDK client. */
function proxy(target) {
  const pairs = new Set()
  let refusing = false
  const srv = net.createServer((client) => {
    if (refusing) return client.destroy()
    const upstream = net.connect(target, '127.0.0.1')
    const pair = [client, upstream]
    pairs.add(pair)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    for (const s of pair) s.on('close', end).on('error', end)
  })
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () =>
      resolve({
        port: srv.address().port,
        down() {
          refusing = true
          for (const pair of pairs) for (const s of pair) s.destroy()
        },
        up() {
          refusing = false
        },
        close: () => new Promise((r) => srv.close(r)),
      }),
    ),
  )
}

async function sdkRecovery(channel, from) {
  const { Switchboard } = await import('@switchboard/client')
  const p = await proxy(port)
  const sb = new Switchboard(`http://127.0.0.1:${p.port}`, { reconnect: { minDelayMs: 10, maxDelayMs: 10 } })
  sb.on('error', () => {})
  await sb.connect()
  let got = 0
  let last = -1
  let ordered = true
  const sub = sb.subscribe(
    channel,
    (d) => {
      if (d.n !== last + 1) ordered = false
      last = d.n
      got++
    },
    { recover: true },
  )
  await sub.ready
  await server.call('publish', { channel, from, count: 1, bytes: opts.bytes })
  await withTimeout(
    until(() => got === 1),
    'first delivery',
  )
  const lost = new Promise((resolve) => {
    const off = sb.on('state', (s) => s === 'reconnecting' && (off(), resolve()))
  })
  p.down()
  await lost
  await server.call('publish', { channel, from: from + 1, count, bytes: opts.bytes }, TIMEOUT_MS)
  const recovered = new Promise((resolve) => sub.on('recovered', resolve))
  const c0 = await server.call('cpu')
  const started = performance.now()
  p.up()
  const r = await withTimeout(recovered, 'sdk recovered')
  await withTimeout(
    until(() => got === count + 1),
    'sdk deliveries',
  )
  const ms = performance.now() - started
  const c1 = await server.call('cpu')
  await sb.close()
  await p.close()
  return { ms, serverCpuMs: cpuMs(c0, c1), missed: r.missed, complete: r.complete, ordered }
}

async function until(check) {
  while (!check()) await new Promise((r) => setTimeout(r, 5))
}

const mib = (count * opts.bytes) / (1024 * 1024)
console.log(
  `recovery: ${count} publications of ${opts.bytes} B (${mib.toFixed(1)} MiB) missed; ` +
    `maxBufferedBytes ${opts.buffer} B (pages of ${Math.floor(opts.buffer / 8)} B)`,
)
try {
  for (let run = 0; run < opts.repeat; run++) {
    const rawChannel = `backlog/raw-${run}`
    const first = await server.call('publish', { channel: rawChannel, from: 0, count: 1, bytes: opts.bytes })
    await server.call('publish', { channel: rawChannel, from: 1, count, bytes: opts.bytes }, TIMEOUT_MS)
    const c0 = await server.call('cpu')
    const raw = await rawRecovery(rawChannel, first)
    const c1 = await server.call('cpu')
    console.log(
      `  raw: ${raw.pubs} publications in ${raw.pages} pages, ${(raw.bytes / 1048576).toFixed(1)} MiB on the wire, ` +
        `complete ${raw.complete}: ${raw.ms.toFixed(0)} ms (${(mib / (raw.ms / 1000)).toFixed(0)} MiB/s), ` +
        `server CPU ${cpuMs(c0, c1).toFixed(0)} ms`,
    )
    const sdk = await sdkRecovery(`backlog/sdk-${run}`, 0)
    console.log(
      `  sdk: recovered ${sdk.missed}, complete ${sdk.complete}, in order ${sdk.ordered}: ` +
        `${sdk.ms.toFixed(0)} ms from reconnect to the last delivery (${(mib / (sdk.ms / 1000)).toFixed(0)} MiB/s), ` +
        `server CPU ${sdk.serverCpuMs.toFixed(0)} ms`,
    )
  }
} finally {
  await server.stop()
}
process.exit(0)
