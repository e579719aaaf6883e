#!/usr/bin/env node
// Listening and occupancy hooks under churn:
//   node bench/listening/run.mjs [--channels 1000] [--rate 10] [--clients 10] [--duration 10] [--warmup 3]
//                                [--hooks=false] [--listen=false]   (the baseline: churn alone)
//                                [--profile]                          (V8 CPU profile of the server)
//                                [--nodes 2] [--redis redis://127.0.0.1:6379]   (a cluster on Redis)
// Every channel gains and loses a subscriber `rate` times a second (subscribe, unsubscribe half a
// period later). One listener (`sb.listen('bench/*')`) hears every change; the server POSTs
// occupied/vacated hooks to a receiver in this process. Reports the server's CPU per occupancy
// change (hook delivery included) and the latency from a first subscribe to the listener's
// `active: true` (both stamped in this process, one clock). With --nodes 2 the nodes share a
// Redis (a fresh key prefix, deleted afterwards): the listener is on node 0, the subscribers on
// node 1, so every change crosses nodes.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Switchboard } from '@switchboard/client'
import { createClient } from 'redis'
import { Histogram } from '../lib/hist.mjs'
import { killAllChildren, startChild } from '../lib/ipc.mjs'
import { parseOptions } from '../lib/options.mjs'

const opts = parseOptions({
  channels: 1000,
  rate: 10,
  clients: 10,
  duration: 10,
  warmup: 3,
  hooks: true,
  listen: true,
  profile: false,
  nodes: 1,
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
})
if (opts.nodes !== 1 && opts.nodes !== 2) throw new Error('--nodes is 1 or 2')
process.on('exit', killAllChildren)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// The backend: counts hook requests and events, answers at once.
const hooks = { requests: 0, events: 0 }
const receiver = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    hooks.requests++
    hooks.events += JSON.parse(Buffer.concat(chunks).toString()).events.length
    res.writeHead(204).end()
  })
})
await new Promise((r) => receiver.listen(0, '127.0.0.1', r))
const hookUrl = `http://127.0.0.1:${receiver.address().port}/hooks`

const prefix = `bench-listening:${randomBytes(4).toString('hex')}:`
const cluster = opts.nodes === 2
const redis = cluster ? createClient({ url: opts.redis }) : undefined
await redis?.connect()
const servers = []
for (let n = 0; n < opts.nodes; n++) {
  servers.push(
    await startChild(fileURLToPath(new URL('./server.mjs', import.meta.url)), {
      args: [opts.hooks ? hookUrl : '-', ...(cluster ? [opts.redis, prefix] : [])],
      name: `server ${n}`,
      // --profile: a V8 CPU profile of each server, written to bench/results/ when it stops.
      execArgv: opts.profile
        ? ['--cpu-prof', `--cpu-prof-dir=${fileURLToPath(new URL('../results/', import.meta.url))}`]
        : [],
    }),
  )
}
const urls = servers.map((s) => `http://127.0.0.1:${s.info.port}`)

const connect = async (url) => {
  const sb = new Switchboard(url)
  sb.on('error', () => {})
  await sb.connect()
  return sb
}
const listenerClient = await connect(urls[0])
const subscribers = await Promise.all(Array.from({ length: opts.clients }, () => connect(urls.at(-1))))

// Latency: subscribe time per channel, matched by the listener's next active:true.
const latency = new Histogram()
const subscribedAt = new Map()
let measuring = false
let actives = 0
const listener = listenerClient.listen(opts.listen ? 'bench/*' : 'none/listened', (name, { active }) => {
  if (!active) return
  actives++
  const t0 = subscribedAt.get(name)
  subscribedAt.delete(name)
  if (measuring && t0 !== undefined) latency.add(performance.now() - t0)
})
await listener.ready

// Churn: the period is split in 10 slots; each tick subscribes one slot's channels and
// unsubscribes the channels subscribed half a period ago.
const periodMs = 1000 / opts.rate
const slots = 10
const names = Array.from({ length: opts.channels }, (_, i) => `bench/${i}`)
const live = new Map()
let tick = 0
const churn = setInterval(() => {
  const slot = tick % slots
  const leaving = (tick + slots / 2) % slots
  for (let i = leaving; i < names.length; i += slots) {
    live.get(names[i])?.unsubscribe()
    live.delete(names[i])
  }
  for (let i = slot; i < names.length; i += slots) {
    const name = names[i]
    if (live.has(name)) continue
    subscribedAt.set(name, performance.now())
    live.set(
      name,
      subscribers[i % subscribers.length].subscribe(name, () => {}),
    )
  }
  tick++
}, periodMs / slots)

/** Every node's CPU and counts, the hooks and actives so far, and Redis' CPU seconds. */
const sample = async () => {
  const nodes = await Promise.all(
    servers.map(async (s) => ({ cpu: await s.call('cpu'), stats: await s.call('stats') })),
  )
  const info = redis ? await redis.sendCommand(['INFO', 'cpu']) : ''
  const redisCpu = ['used_cpu_user', 'used_cpu_sys']
    .map((k) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0))
    .reduce((a, b) => a + b, 0)
  return { nodes, hooks: { ...hooks }, actives, redisCpu }
}
await sleep(opts.warmup * 1000)
const before = await sample()
measuring = true
await sleep(opts.duration * 1000)
measuring = false
const after = await sample()
clearInterval(churn)

const sum = (f) => after.nodes.reduce((t, n, i) => t + f(n) - f(before.nodes[i]), 0)
const cpuUs = sum((n) => n.cpu.cpu.user + n.cpu.cpu.system)
const wallS = (after.nodes[0].cpu.t - before.nodes[0].cpu.t) / 1000
const changes = sum((n) => n.stats.occupied + n.stats.vacated)
const elus = after.nodes.map((n, i) => {
  const b = before.nodes[i].cpu.elu
  return (n.cpu.elu.active - b.active) / (n.cpu.elu.idle + n.cpu.elu.active - b.idle - b.active)
})
const redisUs = (after.redisCpu - before.redisCpu) * 1e6
const target = opts.channels * opts.rate * 2
const row = (label, value) => console.log(label.padEnd(52) + String(value).padStart(14))
const fmt = (v, d = 1) =>
  v === null || v === undefined ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: d })
console.log(
  `\n== listening: ${opts.channels} channels × ${opts.rate} subscribe/unsubscribe per second, ${opts.duration} s` +
    `${opts.hooks ? '' : ', no hooks'}${opts.listen ? '' : ', no listener'}` +
    `${cluster ? ', 2 nodes on Redis (listener on node 0, subscribers on node 1)' : ''}`,
)
row('occupancy changes/s (target)', fmt(target, 0))
row('occupancy changes/s (server)', fmt(changes / wallS, 0))
row('listener active:true/s', fmt((after.actives - before.actives) / wallS, 0))
row('hook events delivered/s', fmt((after.hooks.events - before.hooks.events) / wallS, 0))
row('hook requests/s', fmt((after.hooks.requests - before.hooks.requests) / wallS, 1))
row(`server CPU µs per occupancy change (hooks incl.${cluster ? ', both nodes' : ''})`, fmt(cpuUs / changes, 2))
row('server event-loop utilisation', elus.map((e) => fmt(e * 100, 0) + ' %').join(' / '))
if (cluster) row('Redis CPU µs per change (whole server)', fmt(redisUs / changes, 2))
row('first subscribe → active:true p50 (ms)', fmt(latency.percentile(50), 2))
row('first subscribe → active:true p99 (ms)', fmt(latency.percentile(99), 2))
row('latency samples', latency.n)

for (const sub of live.values()) sub.unsubscribe()
await Promise.all([listenerClient.close(), ...subscribers.map((s) => s.close())])
for (const s of servers) await s.stop()
receiver.close()
if (redis) {
  // The run's keys go (one DEL per key: the same code works on a cluster node).
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    for (const key of keys) await redis.del(key)
  }
  await redis.close()
}
process.exit(0)
