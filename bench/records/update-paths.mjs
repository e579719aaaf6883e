#!/usr/bin/env node
// What one record update with many paths costs: the shared applyUpdate (server and SDK), a
// PATCH /api/records/{name} through a real server (with a /healthz request sent alongside, to
// see whether the server stalls), and rec.update() in the SDK (how long it blocks the caller).
//   node bench/records/update-paths.mjs [--paths 1000,10000] [--repeat 5]
// The server runs with limits.maxUpdateOps raised to the largest count (the default, 1000,
// refuses bigger updates) and maxMessageBytes to 16 MiB. Run `npm run build` first.
import { performance } from 'node:perf_hooks'
import { applyUpdate } from '@switchboard/protocol'
import { createServer } from '@switchboard/server'
import { Switchboard } from '@switchboard/client'
import { parseOptions } from '../lib/options.mjs'

const opts = parseOptions({ paths: '1000,10000', repeat: 5 })
const counts = opts.paths.split(',').map(Number)
const increments = (n, prefix = 'k') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 1]))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ms = (x) => `${x.toFixed(x < 10 ? 2 : 0)} ms`

const server = createServer({
  server: { host: '127.0.0.1', port: 0 },
  storage: { type: 'memory' },
  log: { level: 'error' },
  limits: {
    maxUpdateOps: Math.max(...counts),
    maxMessageBytes: '16MiB',
    messagesPerSecond: 1_000_000,
    maxConnectionsPerIp: 1_000_000,
    connectsPerSecond: 0,
  },
})
const { url } = await server.listen()
const sb = new Switchboard(url)
sb.on('error', () => {})
await sb.connect()

console.log(`record update with N increment paths (median of ${opts.repeat})`)
try {
  for (const n of counts) {
    const apply = []
    const patch = []
    const health = []
    const sdkBlock = []
    const sdkAck = []
    for (let run = 0; run < opts.repeat; run++) {
      const ops = { increment: increments(n) }
      let t = performance.now()
      applyUpdate({}, ops)
      apply.push(performance.now() - t)

      const body = JSON.stringify({ increment: increments(n) })
      t = performance.now()
      const patched = fetch(`${url}/api/records/bench/http-${n}-${run}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body,
      }).then(async (r) => {
        if (r.status !== 200) throw new Error(`PATCH answered ${r.status}: ${await r.text()}`)
        return performance.now() - t
      })
      const healthT = performance.now()
      const healthy = fetch(`${url}/healthz`).then(() => performance.now() - healthT)
      patch.push(await patched)
      health.push(await healthy)

      const rec = sb.record(`bench/sdk-${n}-${run}`)
      await rec.ready
      const sdkOps = { increment: increments(n, 's') }
      t = performance.now()
      const acked = rec.update(sdkOps)
      sdkBlock.push(performance.now() - t)
      await acked
      sdkAck.push(performance.now() - t)
      rec.discard()
    }
    console.log(
      `  N=${n}: applyUpdate ${ms(median(apply))}; PATCH ${ms(median(patch))} (/healthz alongside ${ms(median(health))}); ` +
        `SDK rec.update() blocks ${ms(median(sdkBlock))}, acked after ${ms(median(sdkAck))}`,
    )
  }
} finally {
  await sb.close()
  await server.close()
}
process.exit(0)
