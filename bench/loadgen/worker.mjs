// Load-generator process: opens subscriber / idle / publisher connections and drives the
// publisher, all on the parent's instructions (IPC). Latency is measured here, in the process
// that stamped the payload, so both timestamps come from the same clock.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { serveIpc } from '../lib/ipc.mjs'
import { Histogram } from '../lib/hist.mjs'
import { adapters } from './clients.mjs'

const nowMs = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

let adapter = null
let port = 0
let token // Switchboard: the JWT every hello carries (connect-jwt scenario)
const stats = { errors: 0, acks: 0, pings: 0, lastError: undefined }
let subs = [] // subscribed connections
let idle = [] // connections that only connected
let publisher = null
const localCount = new Map() // room -> subscribers in this process
const hist = new Histogram()
// Latency per group of subscribers (bench/cluster: one group per node they are connected to).
const groupHists = new Map()
let delivered = 0
let seq = 0
let padding = ''
let rateState = null
let windowState = null
let markState = null
let loop = null // event-loop delay of this process (bench/run.mjs --loop-delay)

// capacity scenario: per broadcast, how many local subscribers got it and when the last one did
const capacity = { counts: new Map(), done: new Map(), waiters: new Map() }

function onMsg(_room, d) {
  delivered++
  hist.add(nowMs() - d.ts)
  if (d.cap === 1) capacityReceived(d.seq, d.room)
  const w = windowState
  if (w !== null) {
    const left = w.remaining.get(d.seq)
    if (left !== undefined) {
      if (left <= 1) {
        w.remaining.delete(d.seq)
        w.inflight--
        w.completed++
        w.lastProgress = performance.now()
        pump()
      } else w.remaining.set(d.seq, left - 1)
    }
  }
}

/** onMsg for the subscribers of one group: counted in the overall figures and in the group's own histogram. */
function groupOnMsg(group) {
  let h = groupHists.get(group)
  if (!h) groupHists.set(group, (h = new Histogram()))
  return (room, d) => {
    h.add(nowMs() - d.ts)
    onMsg(room, d)
  }
}

function capacityReceived(seq, room) {
  const n = (capacity.counts.get(seq) ?? 0) + 1
  capacity.counts.set(seq, n)
  if (n < (localCount.get(room) ?? 0)) return
  const at = nowMs()
  capacity.counts.delete(seq)
  const waiter = capacity.waiters.get(seq)
  if (waiter) {
    capacity.waiters.delete(seq)
    waiter(at)
  } else capacity.done.set(seq, at)
}

function sendOne(room) {
  const s = ++seq
  adapter.publish(publisher, room, { seq: s, ts: nowMs(), room, pad: padding })
  return s
}

function setPayloadSize(bytes, rooms) {
  const longest = rooms.reduce((a, r) => (r.length > a.length ? r : a), '')
  const base = JSON.stringify({ seq: 1000000, ts: nowMs(), room: longest, pad: '' }).length
  padding = 'x'.repeat(Math.max(0, bytes - base))
}

function pump() {
  const w = windowState
  if (w === null || w.stopped) return
  while (w.inflight < w.window) {
    const room = w.rooms[w.index++ % w.rooms.length]
    const expected = localCount.get(room) ?? 0
    if (expected === 0) throw new Error(`no local subscriber in ${room}`)
    w.inflight++
    w.remaining.set(seq + 1, expected)
    w.sent++
    sendOne(room)
  }
}

async function pool(count, concurrency, fn, limitMs = 120000) {
  let next = 0
  let ok = 0
  let failed = 0
  let firstError
  const deadline = performance.now() + limitMs
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count && performance.now() < deadline) {
        const i = next++
        try {
          await fn(i)
          ok++
        } catch (err) {
          failed++
          firstError ??= String(err?.message ?? err)
        }
      }
    }),
  )
  return { ok, failed, firstError }
}

function cpuNow() {
  return { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), t: performance.now() }
}

serveIpc({
  init({ kind, port: p, clients = 'lean', loopDelay = false, token: t }) {
    token = t
    if (loopDelay && !loop) {
      loop = monitorEventLoopDelay({ resolution: 1 })
      loop.enable()
    }
    adapter = adapters[clients]?.[kind]
    if (!adapter) throw new Error(`unknown client kind ${kind}`)
    port = p
    return { pid: process.pid }
  },

  /**
   * Open `count` connections; with `rooms` (one room name per connection) subscribe each.
   * `sources`: local addresses to connect from, `perSource` connections each, in order.
   * `port`: another server than init's (a cluster node); `group`: their latency is also reported apart.
   */
  async connect({
    count,
    rooms = null,
    concurrency = 50,
    sources = null,
    perSource = 0,
    limitMs = 120000,
    port: to = port,
    group = null,
  }) {
    const receive = group === null ? onMsg : groupOnMsg(group)
    const t0 = performance.now()
    const r = await pool(
      count,
      concurrency,
      async (i) => {
        const localAddress = sources ? sources[Math.floor(i / perSource) % sources.length] : undefined
        const conn = await adapter.connect(to, { onMsg: receive, stats, localAddress, token })
        if (rooms) {
          try {
            await adapter.subscribe(conn, rooms[i])
          } catch (err) {
            adapter.close(conn)
            throw err
          }
          localCount.set(rooms[i], (localCount.get(rooms[i]) ?? 0) + 1)
          subs.push(conn)
        } else idle.push(conn)
      },
      limitMs,
    )
    return { ...r, ms: performance.now() - t0 }
  },

  /** Pings answered so far and this process's memory (the many-idle scenario). */
  counters() {
    return { pings: stats.pings, errors: stats.errors, lastError: stats.lastError, rss: process.memoryUsage().rss }
  },

  async publisher({ port: to = port } = {}) {
    publisher = await adapter.connect(to, { onMsg: () => {}, stats })
    return {}
  },

  /** Publish at a fixed total rate, round-robin over `rooms`. */
  startRate({ rate, rooms, payloadBytes = 100 }) {
    setPayloadSize(payloadBytes, rooms)
    const period = 1000 / rate
    const st = { stopped: false, slot: 0, sent: 0, skipped: 0, t0: performance.now(), timer: null }
    const tick = () => {
      if (st.stopped) return
      const due = Math.floor((performance.now() - st.t0) / period) + 1
      let n = due - st.slot
      // Never try to catch up on more than 100 ms of backlog (the loop was blocked): skip it.
      const maxBurst = Math.max(1, Math.ceil(rate / 10))
      if (n > maxBurst) {
        st.skipped += n - maxBurst
        st.slot += n - maxBurst
        n = maxBurst
      }
      for (let k = 0; k < n; k++) {
        sendOne(rooms[st.slot++ % rooms.length])
        st.sent++
      }
      st.timer = setTimeout(tick, Math.max(0, st.t0 + st.slot * period - performance.now()))
    }
    rateState = st
    tick()
    return {}
  },

  /** Keep `window` publications outstanding: a new one goes out when one reached every local subscriber. */
  startWindow({ window, rooms, payloadBytes = 100 }) {
    setPayloadSize(payloadBytes, rooms)
    windowState = {
      window,
      rooms,
      index: 0,
      inflight: 0,
      sent: 0,
      completed: 0,
      stalls: 0,
      stopped: false,
      remaining: new Map(),
      lastProgress: performance.now(),
      guard: null,
    }
    const w = windowState
    // A publication lost or stuck for 2 s releases the whole window (counted as a stall).
    w.guard = setInterval(() => {
      if (w.inflight > 0 && performance.now() - w.lastProgress > 2000) {
        w.stalls++
        w.remaining.clear()
        w.inflight = 0
        w.lastProgress = performance.now()
        pump()
      }
    }, 250)
    pump()
    return {}
  },

  /** Start of a measured window: reset counters and the latency histogram. */
  mark() {
    hist.reset()
    for (const h of groupHists.values()) h.reset()
    loop?.reset()
    markState = {
      delivered,
      sent: (rateState?.sent ?? 0) + (windowState?.sent ?? 0),
      skipped: rateState?.skipped ?? 0,
      stalls: windowState?.stalls ?? 0,
      errors: stats.errors,
      acks: stats.acks,
      ...cpuNow(),
    }
    return { t: markState.t }
  },

  /** End of a measured window. */
  report() {
    const end = cpuNow()
    const m = markState
    const elapsedMs = end.t - m.t
    const cpuUs = end.cpu.user + end.cpu.system - (m.cpu.user + m.cpu.system)
    return {
      elapsedMs,
      delivered: delivered - m.delivered,
      published: (rateState?.sent ?? 0) + (windowState?.sent ?? 0) - m.sent,
      skippedSlots: (rateState?.skipped ?? 0) - m.skipped,
      stalls: (windowState?.stalls ?? 0) - m.stalls,
      errors: stats.errors - m.errors,
      lastError: stats.lastError,
      acks: stats.acks - m.acks,
      latency: hist.summary(),
      ...(groupHists.size > 0
        ? { latencyByGroup: Object.fromEntries([...groupHists].map(([g, h]) => [g, h.summary()])) }
        : {}),
      loadgenCpuPct: (cpuUs / 1000 / elapsedMs) * 100,
      loadgenElu: performance.eventLoopUtilization(end.elu, m.elu).utilization,
      subscribers: subs.length,
      ...(loop ? { loopDelayMs: [loop.percentile(50) / 1e6, loop.percentile(99) / 1e6, loop.max / 1e6] } : {}),
    }
  },

  /** Stop publishing and wait (bounded) until deliveries stop arriving. */
  async stopPublish() {
    if (rateState) {
      rateState.stopped = true
      clearTimeout(rateState.timer)
    }
    if (windowState) {
      windowState.stopped = true
      clearInterval(windowState.guard)
    }
    const deadline = performance.now() + 5000
    let last = -1
    let stableSince = performance.now()
    while (performance.now() < deadline) {
      if (delivered !== last) {
        last = delivered
        stableSince = performance.now()
      } else if (performance.now() - stableSince > 400) break
      await sleep(50)
    }
    rateState = null
    windowState = null
    return { delivered }
  },

  /** capacity: one broadcast to `room`; resolves to the time it was sent (epoch ms). */
  capacityPublish({ seq, room, payloadBytes = 100 }) {
    if (!padding) setPayloadSize(payloadBytes, [room])
    const ts = nowMs()
    adapter.publish(publisher, room, { seq, ts, room, cap: 1, pad: padding })
    return { ts }
  },

  /** capacity: when the last local subscriber of `room` got broadcast `seq` (epoch ms; null if none here). */
  capacityAwait({ seq, room, timeoutMs = 30000 }) {
    if ((localCount.get(room) ?? 0) === 0) return { at: null }
    const at = capacity.done.get(seq)
    if (at !== undefined) {
      capacity.done.delete(seq)
      return { at }
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        capacity.waiters.delete(seq)
        capacity.counts.delete(seq)
        resolve({ at: null, timedOut: true })
      }, timeoutMs)
      capacity.waiters.set(seq, (t) => {
        clearTimeout(timer)
        resolve({ at: t })
      })
    })
  },

  /** Drops every connection at once, without close handshakes (after the many-idle scenario). */
  destroyAll() {
    const all = [...subs, ...idle]
    if (publisher) all.push(publisher)
    subs = []
    idle = []
    publisher = null
    localCount.clear()
    for (const c of all) adapter.destroy(c)
    return { destroyed: all.length }
  },

  async closeAll() {
    const all = [...subs, ...idle]
    if (publisher) all.push(publisher)
    subs = []
    idle = []
    publisher = null
    localCount.clear()
    // Bounded: each close gives up after 5 s and terminates the socket.
    for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((c) => adapter.close(c)))
    return { closed: all.length }
  },

  stop() {
    setImmediate(() => process.exit(0))
  },
})

process.send({ type: 'ready', pid: process.pid })
