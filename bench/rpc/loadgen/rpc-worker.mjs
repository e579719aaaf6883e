// Load generator for the RPC and presence scenarios: one provider connection and one caller
// connection (RPC), or many member connections (presence), driven over IPC by the parent.
// Latency is measured here, around each call, on one clock.
//   kinds: 'sb'         Switchboard wire protocol over the lean WebSocket client (also spoken
//                       by the raw ws relay, so both are driven by the very same code)
//          'socketio'   Engine.IO v4 / Socket.IO v5 packets over the lean client, emit-with-ack
//          'deepstream' the official @deepstream/client (deepstream's protocol is binary and
//                       stateful; its client is the only fair way to speak it)
import { performance } from 'node:perf_hooks'
import { serveIpc } from '../../lib/ipc.mjs'
import { Histogram } from '../../lib/hist.mjs'
import { connectWs } from '../../loadgen/miniws.mjs'

const NAME = 'bench/echo'
let port = 0
let kind = 'sb'
let provider = null
let caller = null
let members = []
const stats = { errors: 0, lastError: undefined }

// ---- Switchboard protocol (and the raw relay) ---------------------------------------------
async function sbConnect(onPush) {
  const conn = { t: null, pending: new Map(), nextId: 1 }
  const handle = (m) => {
    if (m.t === 'ok' || m.t === 'welcome' || m.t === 'err') {
      const p = conn.pending.get(m.id)
      if (!p) return
      conn.pending.delete(m.id)
      if (m.t === 'err') {
        stats.errors++
        stats.lastError ??= `${m.code}: ${m.msg}`
        p.reject(new Error(`${m.code}: ${m.msg}`))
      } else p.resolve(m.r)
    } else if (m.t === 'ping') conn.t.send('{"t":"pong"}')
    else onPush?.(m, conn)
  }
  conn.t = await connectWs({
    port,
    path: '/ws',
    onText: (text, t) => {
      conn.t ??= t
      const v = JSON.parse(text)
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) handle(v[i])
      else handle(v)
    },
    onError: () => stats.errors++,
  })
  conn.request = (body) => {
    const id = conn.nextId++
    body.id = id
    return new Promise((resolve, reject) => {
      conn.pending.set(id, { resolve, reject })
      conn.t.send(JSON.stringify(body))
    })
  }
  await conn.request({ t: 'hello', v: 1 })
  return conn
}

const sb = {
  async provider() {
    const conn = await sbConnect((m, c) => {
      if (m.t === 'inv') c.t.send(JSON.stringify({ t: 'rpcres', c: m.c, r: m.a }))
    })
    await conn.request({ t: 'prov', n: NAME })
    return conn
  },
  caller: () => sbConnect(),
  call: (conn, args) => conn.request({ t: 'rpc', n: NAME, a: args }),
  close: (conn) => conn.t.close(),
}

// ---- socket.io, lean -------------------------------------------------------------------------
async function sioConnect(onEvent) {
  const conn = { t: null, pending: new Map(), nextId: 1 }
  let connected
  const ready = new Promise((resolve) => (connected = resolve))
  conn.t = await connectWs({
    port,
    path: '/socket.io/?EIO=4&transport=websocket',
    onText: (text, t) => {
      const eio = text.charCodeAt(0)
      if (eio === 52 /* '4' */) {
        const sio = text.charCodeAt(1)
        const b = text.indexOf('[')
        if (sio === 51 /* '3' ack */) {
          const id = Number(text.slice(2, b))
          const p = conn.pending.get(id)
          if (p) {
            conn.pending.delete(id)
            p(JSON.parse(text.slice(b))[0])
          }
        } else if (sio === 50 /* '2' event */) onEvent?.(text.slice(2, b), JSON.parse(text.slice(b)), t)
        else if (sio === 48 /* '0' */) connected()
      } else if (eio === 50 /* '2' ping */) t.send('3')
      else if (eio === 48 /* '0' open */) t.send('40')
    },
    onError: () => stats.errors++,
  })
  await ready
  conn.emit = (args) => {
    const id = conn.nextId++
    return new Promise((resolve) => {
      conn.pending.set(id, resolve)
      conn.t.send(`42${id}${JSON.stringify(args)}`)
    })
  }
  return conn
}

const socketio = {
  async provider() {
    const conn = await sioConnect((ackId, [event, , args], t) => {
      if (event === 'invoke') t.send(`43${ackId}${JSON.stringify([args])}`)
    })
    await conn.emit(['provide', NAME])
    return conn
  },
  caller: () => sioConnect(),
  call: (conn, args) => conn.emit(['call', NAME, args]),
  close: (conn) => conn.t.close(),
}

// ---- deepstream.io, official client -------------------------------------------------------------
const deepstream = {
  async connect() {
    const { DeepstreamClient } = await import('@deepstream/client')
    const client = new DeepstreamClient(`ws://127.0.0.1:${port}/deepstream`, {
      // Defaults time out RPCs at 6 s and batch nothing; keep them, but never give up on connecting.
      maxReconnectAttempts: 0,
    })
    client.on('error', (err) => {
      stats.errors++
      stats.lastError ??= String(err)
    })
    await client.login()
    return client
  },
  async provider() {
    const client = await deepstream.connect()
    client.rpc.provide(NAME, (data, response) => response.send(data))
    // provide() has no acknowledgement: wait until a call gets through.
    return client
  },
  caller: () => deepstream.connect(),
  call: (client, args) => client.rpc.make(NAME, args),
  close: async (client) => client.close(),
}

const adapters = { sb, socketio, deepstream }
const a = () => adapters[kind]

let padding = ''
const args = (i) => ({ i, pad: padding })

serveIpc({
  async init(opts) {
    port = opts.port
    kind = opts.kind
    padding = 'x'.repeat(Math.max(0, (opts.payloadBytes ?? 100) - 20))
    return { ok: true }
  },

  async rpcConnect() {
    provider = await a().provider()
    caller = await a().caller()
    // Calls until the provider is routable (deepstream's provide has no ack), then warm-up.
    const until = Date.now() + 10_000
    for (;;) {
      try {
        await withTimeout(a().call(caller, args(0)), 2000)
        break
      } catch (err) {
        if (Date.now() > until) throw err
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    return { ok: true }
  },

  async warmup({ calls = 2000 }) {
    for (let i = 0; i < calls; i++) await a().call(caller, args(i))
    await window({ total: calls * 5, inFlight: 100 })
    return { ok: true }
  },

  /** `n` calls one after the other: round-trip latency. */
  async sequential({ n }) {
    const hist = new Histogram()
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      const s = performance.now()
      await a().call(caller, args(i))
      hist.add(performance.now() - s)
    }
    return { calls: n, elapsedMs: performance.now() - t0, latency: hist.summary(), ...stats }
  },

  /** `inFlight` calls outstanding at all times, for `seconds`: throughput. */
  async throughput({ seconds, inFlight }) {
    const c0 = process.cpuUsage()
    const r = await window({ seconds, inFlight })
    const c = process.cpuUsage(c0)
    return { ...r, loadgenCpuPct: ((c.user + c.system) / 1000 / r.elapsedMs) * 100, ...stats }
  },

  async rpcClose() {
    await Promise.allSettled([provider && a().close(provider), caller && a().close(caller)])
    provider = caller = null
    return { ok: true }
  },

  // ---- presence (Switchboard only) ---------------------------------------------------------------
  /** Opens `count` connections, each keeping its own view of `room`'s members. */
  async presenceConnect({ count, concurrency = 50 }) {
    members = []
    let next = 0
    const open = async () => {
      while (next < count) {
        next++
        const view = { known: new Set(), completeAt: 0 }
        const conn = await sbConnect((m) => applyPresence(view, m))
        members.push({ conn, view })
      }
    }
    await Promise.all(Array.from({ length: concurrency }, open))
    return { connected: members.length }
  },

  /** Every connection watches `room` (members), waiting for its first snapshot. */
  async presenceWatch({ room }) {
    for (const m of members) m.view.expect = members.length
    await Promise.all(members.map((m) => m.conn.request({ t: 'pwatch', r: room })))
    return { ok: true }
  },

  /**
   * Every connection joins `room`, `perMs` joins per millisecond; resolves when every view
   * shows every member (or after `timeoutMs`) with the timings.
   */
  async presenceJoin({ room, perMs = 1, timeoutMs = 30_000 }) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    let sent = 0
    const acks = []
    await new Promise((resolve) => {
      const tick = () => {
        const due = Math.min(members.length, Math.floor((performance.now() - t0) * perMs) + 1)
        while (sent < due) {
          const m = members[sent++]
          acks.push(m.conn.request({ t: 'pjoin', r: room, m: { n: sent } }))
        }
        if (sent < members.length) setImmediate(tick)
        else resolve()
      }
      tick()
    })
    const lastJoinAt = performance.now()
    await Promise.all(acks)
    const lastAckAt = performance.now()
    const deadline = t0 + timeoutMs
    while (members.some((m) => m.view.completeAt === 0) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2))
    }
    const complete = members.filter((m) => m.view.completeAt > 0)
    const lastComplete = Math.max(...complete.map((m) => m.view.completeAt), 0)
    return {
      members: members.length,
      completeViews: complete.length,
      joinSpanMs: lastJoinAt - t0,
      lastAckAfterLastJoinMs: lastAckAt - lastJoinAt,
      allViewsAfterLastJoinMs: complete.length === members.length ? lastComplete - lastJoinAt : null,
      allViewsAfterFirstJoinMs: complete.length === members.length ? lastComplete - t0 : null,
      frames: members.reduce((s, m) => s + (m.view.frames ?? 0), 0),
      loadgenCpuMs: ((c) => (c.user + c.system) / 1000)(process.cpuUsage(c0)),
      ...stats,
    }
  },

  async presenceClose() {
    await Promise.allSettled(members.map((m) => m.conn.t.close()))
    members = []
    return { ok: true }
  },

  async closeAll() {
    await Promise.allSettled([
      provider && a().close(provider),
      caller && a().close(caller),
      ...members.map((m) => m.conn.t.close()),
    ])
    return { ok: true }
  },
})

function applyPresence(view, m) {
  if (m.t === 'psnap') {
    view.known = new Set(m.m.map((x) => x.c))
  } else if (m.t === 'pdiff') {
    if (m.l) for (const c of m.l) view.known.delete(c)
    if (m.j) for (const x of m.j) view.known.add(x.c)
  } else return
  view.frames = (view.frames ?? 0) + 1
  if (view.completeAt === 0 && view.expect && view.known.size >= view.expect) view.completeAt = performance.now()
}

/** Keeps `inFlight` calls outstanding, for `seconds` or until `total` calls completed. */
function window({ seconds, total, inFlight }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const until = seconds ? t0 + seconds * 1000 : Infinity
    let started = 0
    let done = 0
    let outstanding = 0
    let finished = false
    const launch = () => {
      while (
        !finished &&
        outstanding < inFlight &&
        (total === undefined || started < total) &&
        performance.now() < until
      ) {
        started++
        outstanding++
        a()
          .call(caller, args(started))
          .then(onDone, (err) => {
            finished = true
            reject(err)
          })
      }
      if (outstanding === 0 && !finished) {
        finished = true
        resolve({ calls: done, elapsedMs: performance.now() - t0 })
      }
    }
    const onDone = () => {
      outstanding--
      done++
      launch()
    }
    launch()
  })
}

function withTimeout(promise, ms) {
  let t
  return Promise.race([
    promise,
    new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t))
}
process.send?.({ type: 'ready', name: 'rpc loadgen' })
