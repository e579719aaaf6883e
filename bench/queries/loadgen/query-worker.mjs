// Load generator for the live-query scenarios (a child process driven over IPC). Lean WebSocket
// clients (bench/loadgen/miniws.mjs) speaking Switchboard's wire protocol, so the client side
// costs little and what is measured is the server:
//   openQueries: connections holding live queries (`qsub`); every `qchg` row is a delivery; a
//                row that changes while in its query's result is timed: write sent → received
//                here (a row entering the result may be an old write moving into view).
//   startWriter: one connection writing whole documents (`rset`) to random records of `items` at a
//                fixed rate, each stamped with the time it was sent.
//   firstLoad:   opens a query, times the answer (all rows), closes it; repeatedly.
import { performance } from 'node:perf_hooks'
import { serveIpc } from '../../lib/ipc.mjs'
import { Histogram } from '../../lib/hist.mjs'
import { connectWs } from '../../loadgen/miniws.mjs'
import { itemDoc } from '../shapes.mjs'

let port = 0
const now = () => performance.timeOrigin + performance.now()
const hist = new Histogram()
const stats = { delivered: 0, timed: 0, frames: 0, sent: 0, acked: 0, errors: 0, lastError: undefined }
let measuring = false
let cpu0 = process.cpuUsage()
let t0 = performance.now()
const conns = []
let timer
const onError = (err) => {
  stats.errors++
  stats.lastError ??= String(err?.message ?? err)
}

/** A lean connection: hello, answers pings, hands other messages to `onMessage`. */
async function open(onMessage) {
  let welcomed
  const ready = new Promise((resolve) => (welcomed = resolve))
  const conn = await connectWs({
    port,
    path: '/ws',
    onText: (text, c) => {
      const v = JSON.parse(text)
      for (const m of Array.isArray(v) ? v : [v]) {
        if (m.t === 'welcome') welcomed()
        else if (m.t === 'ping') c.send('{"t":"pong"}')
        else if (m.t === 'err') onError(`${m.code}: ${m.msg}`)
        else onMessage(m)
      }
    },
    onError,
  })
  conn.send('{"t":"hello","id":0,"v":1}')
  await ready
  conns.push(conn)
  return conn
}

async function openQueries({ connections, queries, perQuery }) {
  const total = queries.length * perQuery
  let answered = 0
  let done
  const all = new Promise((resolve) => (done = resolve))
  // Per query (its id `q`): the names in its result, so a row that changes while in the result
  // is told apart from one entering it (which may be a row written long ago moving into view).
  const visible = new Map()
  const onMessage = (m) => {
    if (m.t === 'ok' && m.r?.rows) {
      visible.set(m.id, new Set(m.r.rows.map((r) => r[0])))
      if (++answered === total) done()
    } else if (m.t === 'qchg') {
      const names = visible.get(m.q + 1)
      for (const n of m.rm ?? []) names?.delete(n)
      const t = now()
      for (const row of m.up ?? []) {
        const had = names?.has(row[0])
        names?.add(row[0])
        if (!measuring) continue
        stats.delivered++
        const ts = row[2]?.ts
        if (!had || typeof ts !== 'number' || ts === 0) continue
        stats.timed++
        hist.add(t - ts)
      }
      if (measuring) stats.frames++
    }
  }
  const list = []
  for (let c = 0; c < connections; c++) list.push(await open(onMessage))
  // Query k goes to connection k mod connections: the 10 subscribers of a query sit on 10 connections.
  for (let k = 0; k < total; k++) {
    const q = queries[k % queries.length]
    const conn = list[k % connections]
    conn.send(JSON.stringify({ t: 'qsub', id: k + 1, q: k, c: q.c, w: q.w, o: q.o, l: q.l }))
  }
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('queries not answered in 120 s')), 120_000),
  )
  await Promise.race([all, timeout])
  return { live: total }
}

async function startWriter({ rate, records }) {
  const conn = await open((m) => {
    if (m.t === 'ok' && measuring) stats.acked++
  })
  const start = performance.now()
  let sent = 0
  let id = 1
  const tick = () => {
    const due = Math.floor(((performance.now() - start) / 1000) * rate)
    while (sent < due) {
      sent++
      if (measuring) stats.sent++
      const i = Math.floor(Math.random() * records)
      conn.send(JSON.stringify({ t: 'rset', id: id++, n: `items/${i}`, d: itemDoc(i, Math.random, now()) }))
    }
    timer = setTimeout(tick, 1)
  }
  tick()
  return {}
}

async function firstLoad({ query, times }) {
  let waiting
  const conn = await open((m) => {
    if (m.t === 'ok' && m.r?.rows) waiting?.(m.r.rows.length)
  })
  const samples = []
  let rows = 0
  for (let i = 0; i < times; i++) {
    const answered = new Promise((resolve) => (waiting = resolve))
    const t = performance.now()
    conn.send(
      JSON.stringify({ t: 'qsub', id: 2 * i + 1, q: i, c: 'items', w: query.where, o: query.orderBy, l: query.limit }),
    )
    rows = await answered
    samples.push(performance.now() - t)
    // Closed, so the next open loads from storage again instead of joining this view.
    conn.send(JSON.stringify({ t: 'qunsub', id: 2 * i + 2, q: i }))
  }
  samples.sort((a, b) => a - b)
  const at = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]
  return { rows, p50Ms: at(50), p90Ms: at(90), maxMs: samples[samples.length - 1], minMs: samples[0] }
}

serveIpc({
  init(opts) {
    port = opts.port
    return {}
  },
  openQueries,
  startWriter,
  firstLoad,
  mark() {
    hist.reset()
    stats.delivered = stats.timed = stats.frames = stats.sent = stats.acked = stats.errors = 0
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
    return {}
  },
  stop() {
    setImmediate(() => process.exit(0))
    return {}
  },
  async closeAll() {
    clearTimeout(timer)
    await Promise.allSettled(conns.splice(0).map((c) => c.close()))
    return {}
  },
})
process.send?.({ type: 'ready', name: 'queries loadgen' })
