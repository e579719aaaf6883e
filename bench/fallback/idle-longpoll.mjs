#!/usr/bin/env node
// What an idle long-polling client costs the server per heartbeat. --clients long-polling
// sessions (the lean client of loadgen/http-transports.mjs: POST /connect, GET /poll again and
// again, POST /send up) say hello and then nothing; bench/servers/switchboard.mjs pings each
// every --interval ms (server.heartbeat, timeout 3 intervals), which answers its held poll.
// The server hears every poll, so the client's next poll is its answer: with `--pong` the
// clients also answer every ping with a `POST /send` {"t":"pong"}, as they had to before.
// Reports the server's CPU (user + system) over --seconds after a settling period, the pings
// delivered, the CPU per ping, the `POST`s per ping and the sessions still open at the end.
//   node bench/fallback/idle-longpoll.mjs [--clients 1000] [--interval 1000] [--seconds 20] [--pong]
// Run `npm run build` first.
import { fileURLToPath } from 'node:url'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'
import { longpollTransport } from '../loadgen/http-transports.mjs'

const opts = parseOptions({ clients: 1000, interval: 1000, seconds: 20, pong: false })
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))
setTimeout(
  () => {
    console.error('gave up: the run took far longer than it should')
    process.exit(1)
  },
  (opts.seconds + 120) * 1000,
).unref()

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const server = await startChild(fileURLToPath(new URL('../servers/switchboard.mjs', import.meta.url)), {
  name: 'switchboard',
  args: [`--heartbeat=${opts.interval},${opts.interval * 3}`],
})
const port = server.info.port

const stats = { errors: 0 }
let pings = 0
let pongs = 0
for (let i = 0; i < opts.clients; i++) {
  const conn = await longpollTransport.open(
    port,
    '/ws',
    (frame, t) => {
      for (const m of Array.isArray(frame) ? frame : [frame]) {
        if (m.t === 'ping') {
          pings++
          if (opts.pong) {
            pongs++
            t.send('{"t":"pong"}')
          }
        }
      }
    },
    stats,
  )
  conn.send(JSON.stringify({ t: 'hello', id: 1, v: 1 }))
}

const cpuMs = async () => {
  const { cpu } = await server.call('cpu', {}, 10_000)
  return (cpu.user + cpu.system) / 1000
}
// Every session pinged at least once, each in its own phase, before the window opens.
await sleep(opts.interval * 3)
const [cpu0, pings0, pongs0] = [await cpuMs(), pings, pongs]
await sleep(opts.seconds * 1000)
const [cpu1, pings1, pongs1] = [await cpuMs(), pings, pongs]
const n = pings1 - pings0
const used = cpu1 - cpu0
const { connections } = await server.call('stats', {}, 10_000)
console.log(
  JSON.stringify(
    {
      clients: opts.clients,
      intervalMs: opts.interval,
      seconds: opts.seconds,
      pong: opts.pong,
      serverCpuMs: Math.round(used),
      pings: n,
      cpuUsPerPing: n > 0 ? Number(((used * 1000) / n).toFixed(1)) : null,
      // Each ping answers a held poll, and the client polls again: one request, plus the pong's.
      postsPerPing: n > 0 ? Number(((pongs1 - pongs0) / n).toFixed(2)) : null,
      sessionsOpen: connections,
      errors: stats.errors,
    },
    null,
    2,
  ),
)
process.exit(0)
