// Load generator for the record scenarios (a child process driven over IPC).
//   fan-out: subscribers on one record and one writer, with each system's official client
//            ('sb' = @switchboard/client, 'deepstream' = @deepstream/client), so each side pays
//            for its own client's record handling; the writer sets one path at a fixed rate
//            with a timestamp, subscribers record the latency of every change they see.
//            'ws' is the floor: plain `ws` clients of bench/servers/raw-ws.mjs, a relay with no
//            record logic at all (no versions, no storage) that writes one pre-framed buffer per
//            subscriber; the "record" is a room and a set is a publication to it.
//   writes:  lean WebSocket clients speaking Switchboard's wire protocol (rupd frames), each
//            keeping a window of writes in flight; counts acknowledged (= committed) writes.
import { performance } from 'node:perf_hooks'
import { serveIpc } from '../../lib/ipc.mjs'
import { Histogram } from '../../lib/hist.mjs'
import { connectWs } from '../../loadgen/miniws.mjs'

let port = 0
let kind = 'sb'
const now = () => performance.timeOrigin + performance.now()
const hist = new Histogram()
const stats = { delivered: 0, published: 0, acked: 0, errors: 0, outOfOrder: 0, lastError: undefined }
let measuring = false
let cpu0 = process.cpuUsage()
let t0 = performance.now()
const clients = []
const onError = (err) => {
  stats.errors++
  stats.lastError ??= String(err?.message ?? err)
}

// ---- the two clients' record APIs ------------------------------------------------------------
const adapters = {
  sb: {
    async connect() {
      const { Switchboard } = await import('@switchboard/client')
      const sb = new Switchboard(`http://127.0.0.1:${port}`, { offlineQueueLimit: 100_000 })
      sb.on('error', onError)
      await sb.connect()
      return { close: () => sb.close(), sb }
    },
    async open(c, name) {
      const rec = c.sb.record(name)
      rec.on('error', onError)
      await rec.ready
      return rec
    },
    watch: (rec, path, fn) => rec.subscribe(path, fn),
    set: (rec, path, value) => rec.set(path, value).catch(onError),
  },
  deepstream: {
    async connect() {
      const { DeepstreamClient } = await import('@deepstream/client')
      const client = new DeepstreamClient(`ws://127.0.0.1:${port}/deepstream`, { maxReconnectAttempts: 0 })
      client.on('error', onError)
      await client.login()
      return { close: () => client.close(), client }
    },
    async open(c, name) {
      const rec = c.client.record.getRecord(name)
      await rec.whenReady()
      return rec
    },
    watch: (rec, path, fn) => rec.subscribe(path, fn),
    set: (rec, path, value) => rec.set(path, value),
  },
  ws: {
    async connect() {
      const { WebSocket } = await import('ws')
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false })
      ws.on('error', onError)
      await new Promise((resolve, reject) => {
        ws.once('open', resolve)
        ws.once('error', reject)
      })
      return { close: () => ws.close(), ws }
    },
    async open(c, name, { writer = false } = {}) {
      // The writer does not join the room: the relay would echo its own publications.
      if (writer) return { ws: c.ws, name, watchers: [] }
      const watchers = []
      const acked = new Promise((resolve) => {
        c.ws.on('message', (data) => {
          const m = JSON.parse(data)
          if (m.t === 'ok') resolve()
          else if (m.t === 'msg') for (const fn of watchers) fn(m.d.p)
        })
      })
      c.ws.send(JSON.stringify({ t: 'sub', id: 1, ch: name }))
      await acked
      return { ws: c.ws, name, watchers }
    },
    watch: (rec, _path, fn) => rec.watchers.push(fn),
    set: (rec, path, value) => rec.ws.send(JSON.stringify({ t: 'pub', ch: rec.name, d: { [path]: value } })),
  },
}

// ---- fan-out ---------------------------------------------------------------------------------
let writer
let timer
let padding = ''

async function subscribe({ count, name, concurrency = 20 }) {
  const a = adapters[kind]
  let ok = 0
  let failed = 0
  let next = 0
  const one = async () => {
    while (next < count) {
      next++
      try {
        const c = await a.connect()
        clients.push(c)
        const rec = await a.open(c, name)
        const sub = { rec, seq: 0 }
        subs.push(sub)
        a.watch(rec, 'p', (v) => {
          if (!v || typeof v.t !== 'number') return
          // Never an older state after a newer one (max-rate: versions may be coalesced, not reordered).
          if (typeof v.seq === 'number') {
            if (v.seq <= sub.seq) stats.outOfOrder++
            sub.seq = v.seq
            everyoneGot(v.seq)
          }
          if (!measuring) return
          stats.delivered++
          hist.add(now() - v.t)
        })
        ok++
      } catch (err) {
        failed++
        onError(err)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, one))
  return { ok, failed }
}

async function startWriter({ name, rate, payloadBytes }) {
  const a = adapters[kind]
  const c = await a.connect()
  clients.push(c)
  writer = await a.open(c, name, { writer: true })
  padding = 'x'.repeat(Math.max(0, payloadBytes - 40))
  const start = performance.now()
  let sent = 0
  const tick = () => {
    const due = Math.floor(((performance.now() - start) / 1000) * rate)
    while (sent < due) {
      sent++
      if (measuring) stats.published++
      a.set(writer, 'p', { t: now(), pad: padding })
    }
    timer = setTimeout(tick, 1)
  }
  tick()
}

// ---- max rate: the writer keeps `window` updates in flight ------------------------------------
// Switchboard: an update is done when acknowledged (committed); lagging subscribers get the
// newest state once they read again. The ws floor has no acks and no coalescing: an update is
// done once every subscriber got it (the relay sends every one to everyone).
const subs = []
let maxWriter
const waitingFor = new Map() // ws: seq -> subscribers still to get it

function everyoneGot(seq) {
  if (!maxWriter || kind !== 'ws') return // (the ws writer runs in its subscribers' process)
  const left = waitingFor.get(seq)
  if (left === undefined) return
  if (left > 1) return void waitingFor.set(seq, left - 1)
  waitingFor.delete(seq)
  maxWriter.inflight--
  maxWriter.pump()
}

async function startMaxWriter({ name, window, payloadBytes }) {
  const pad = 'x'.repeat(Math.max(0, payloadBytes - 50))
  const w = (maxWriter = { inflight: 0, seq: 0, version: 0, stopped: false, pump: () => {} })
  if (kind === 'ws') {
    const a = adapters.ws
    const c = await a.connect()
    clients.push(c)
    const rec = await a.open(c, name, { writer: true })
    w.pump = () => {
      while (!w.stopped && w.inflight < window) {
        w.inflight++
        const seq = ++w.seq
        if (measuring) stats.published++
        waitingFor.set(seq, subs.length)
        a.set(rec, 'p', { t: now(), seq, pad })
      }
    }
    return void w.pump()
  }
  // Switchboard: a lean writer speaking the protocol (rset), not a record handle, which would
  // also be a subscriber of the record and get every change.
  let ready
  const welcomed = new Promise((r) => (ready = r))
  const conn = await connectWs({
    port,
    path: '/ws',
    onText: (text) => {
      const v = JSON.parse(text)
      for (const m of Array.isArray(v) ? v : [v]) {
        if (m.t === 'welcome') ready()
        else if (m.t === 'ok' || m.t === 'err') {
          if (m.t === 'err') onError(`${m.code}: ${m.msg}`)
          else if (m.r?.v > w.version) w.version = m.r.v
          w.inflight--
          w.pump()
        }
      }
    },
    onError,
  })
  clients.push({ close: () => conn.close() })
  conn.send('{"t":"hello","id":0,"v":1}')
  await welcomed
  w.pump = () => {
    while (!w.stopped && w.inflight < window) {
      w.inflight++
      const seq = ++w.seq
      if (measuring) stats.published++
      conn.send(JSON.stringify({ t: 'rset', id: seq, n: name, p: 'p', d: { t: now(), seq, pad } }))
    }
  }
  w.pump()
}

/** Stops the writer; resolves once nothing is in flight: the last update and its version. */
async function stopMaxWriter({ timeoutMs = 30_000 }) {
  const w = maxWriter
  w.stopped = true
  const until = performance.now() + timeoutMs
  while (w.inflight > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10))
  return { last: w.seq, version: w.version, inflight: w.inflight }
}

/** Waits (bounded) until every subscriber has update `last` (Switchboard: and record version `version`). */
async function converge({ last, version, timeoutMs = 30_000 }) {
  const at = (s) => s.seq === last && (kind !== 'sb' || s.rec.version === version)
  const until = performance.now() + timeoutMs
  while (!subs.every(at) && performance.now() < until) await new Promise((r) => setTimeout(r, 20))
  return { subscribers: subs.length, converged: subs.filter(at).length }
}

// ---- acknowledged writes -----------------------------------------------------------------------
let writing = false
const sentAt = new Map()

async function startWrites({ count, records, window }) {
  writing = true
  let nextName = 0
  const open = async (k) => {
    let id = 0
    let sendOne
    const conn = await connectWs({
      port,
      path: '/ws',
      onText: (text) => {
        const v = JSON.parse(text)
        for (const m of Array.isArray(v) ? v : [v]) {
          if (m.t === 'welcome') {
            for (let i = 0; i < window; i++) sendOne()
            continue
          }
          if (m.t !== 'ok' && m.t !== 'err') continue
          const key = k * 1e9 + m.id
          const at = sentAt.get(key)
          sentAt.delete(key)
          if (m.t === 'err') onError(`${m.code}: ${m.msg}`)
          else if (measuring) {
            stats.acked++
            if (at !== undefined) hist.add(performance.now() - at)
          }
          if (writing) sendOne()
        }
      },
      onError,
    })
    sendOne = () => {
      const i = ++id
      // Round-robin over the records, so every record gets the same share.
      const name = `bench/rec${nextName++ % records}`
      sentAt.set(k * 1e9 + i, performance.now())
      conn.send(`{"t":"rupd","id":${i},"n":"${name}","ops":{"increment":{"n":1}}}`)
    }
    clients.push({ close: () => conn.close() })
    conn.send('{"t":"hello","id":0,"v":1}')
  }
  await Promise.all(Array.from({ length: count }, (_, k) => open(k + 1)))
  return { connected: count }
}

serveIpc({
  init(opts) {
    port = opts.port
    kind = opts.kind
    return {}
  },
  subscribe,
  startWriter,
  startMaxWriter,
  stopMaxWriter,
  converge,
  startWrites,
  mark() {
    hist.reset()
    stats.delivered = stats.published = stats.acked = stats.errors = stats.outOfOrder = 0
    stats.lastError = undefined
    measuring = true
    cpu0 = process.cpuUsage()
    t0 = performance.now()
    return {}
  },
  report() {
    measuring = false
    const elapsedMs = performance.now() - t0
    const c = process.cpuUsage(cpu0)
    return {
      ...stats,
      elapsedMs,
      latency: hist.summary(),
      loadgenCpuPct: ((c.user + c.system) / 1000 / elapsedMs) * 100,
    }
  },
  stopLoad() {
    clearTimeout(timer)
    writing = false
    if (maxWriter) maxWriter.stopped = true
    return {}
  },
  stop() {
    setImmediate(() => process.exit(0))
    return {}
  },
  async closeAll() {
    clearTimeout(timer)
    writing = false
    if (maxWriter) maxWriter.stopped = true
    await Promise.allSettled(clients.splice(0).map((c) => c.close()))
    return {}
  },
})
process.send?.({ type: 'ready', name: 'records loadgen' })
