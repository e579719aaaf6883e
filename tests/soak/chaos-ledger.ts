/**
 * What the chaos soaks share: the seeded schedule, the clients' workload (each publishes its own
 * numbered sequence and writes its own record path) and the ledger that judges a run. The soaks
 * differ in what they break: chaos.test.ts the links (in-process nodes), chaos-cluster.test.ts
 * also the processes (`kill -9` of a node, a Redis restart).
 */
import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import type { RecordHandle, Switchboard, TransportName } from '@switchboard/client'
import type { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'

export const SECONDS = Number(process.env.CHAOS_SECONDS ?? 60)
export const SEED = Number(process.env.CHAOS_SEED ?? 7)
/** The transports the clients use, round robin (every client sticks to its one). */
export const TRANSPORTS = (process.env.CHAOS_TRANSPORTS ?? 'websocket,sse,longpoll').split(',') as TransportName[]
/** A refused publish or write (UNAVAILABLE while Redis is down) is tried again this often at most. */
const RETRIES = 200

/** The whole schedule follows from the seed. */
export { seeded } from '../support/seeded.js'

export const pace = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface Actor {
  index: number
  sb: Switchboard
  /** One proxy per node, in the nodes' order. */
  proxies: TcpProxy[]
  /** Received per channel, in delivery order. */
  got: number[][]
  record: RecordHandle
  published: number
  acked: { seq: number; offset: number }[]
  lastWritten: number
  reconnects: number
}

/**
 * `clients` actors, each behind TCP proxies of its own (one per node port, so a link fault hits
 * one client), on the transports in turn. `order(i, urls)`: client i's URL list, from its
 * proxies' URLs in the nodes' order.
 */
export async function proxiedActors(
  res: Resources,
  ports: readonly number[],
  clients: number,
  order: (index: number, urls: string[]) => string[],
): Promise<Actor[]> {
  const actors: Actor[] = []
  for (let i = 0; i < clients; i++) {
    const proxies = await Promise.all(ports.map(async (p) => res.add(await new TcpProxy(p).start(), (x) => x.close())))
    const urls = order(
      i,
      proxies.map((p) => p.url),
    )
    const transports = [TRANSPORTS[i % TRANSPORTS.length] as TransportName]
    const sb = res.client(urls, { transports, reconnect: { minDelayMs: 50, maxDelayMs: 500 } })
    actors.push(await joinActor(i, sb, proxies, clients))
  }
  return actors
}

/** Connects `sb`, subscribes it (recover: true) to every client's channel and opens the record. */
export async function joinActor(index: number, sb: Switchboard, proxies: TcpProxy[], clients: number): Promise<Actor> {
  sb.on('error', () => {}) // refusals while a link or node is down are expected; the ledger is the judge
  const actor: Actor = {
    index,
    sb,
    proxies,
    got: Array.from({ length: clients }, () => []),
    record: sb.record('chaos/doc'),
    published: 0,
    acked: [],
    lastWritten: 0,
    reconnects: 0,
  }
  sb.on('state', (s) => s === 'reconnecting' && actor.reconnects++)
  await sb.connect()
  for (let c = 0; c < clients; c++) {
    await sb.subscribe(`chaos/c${c}`, (d) => actor.got[c]!.push(d as number), { recover: true }).ready
  }
  await actor.record.ready
  return actor
}

/**
 * Tries `op` until it succeeds; an error the server marks retryable (UNAVAILABLE while the
 * engine is down) is tried again, anything else is a failure for the ledger.
 */
async function untilDone<T>(op: () => Promise<T>, failures: string[], what: string): Promise<T | undefined> {
  for (let k = 0; ; k++) {
    try {
      return await op()
    } catch (e) {
      const err = e as { code?: string; retryable?: boolean }
      if (!err.retryable || k >= RETRIES) {
        failures.push(`${what}: ${err.code}`)
        return undefined
      }
      await pace(50)
    }
  }
}

/**
 * The workload: each client publishes its own sequence (`inFlight` at a time; each with its own
 * id, so a publish tried again after a refusal is published once) and writes its own record path.
 * With publishes the app tries again (refusals), keep `inFlight` at 1: a later one could be
 * stored before an earlier one that was refused, and the ledger expects the order they were made.
 * `stop()` ends it once the work in flight is done and returns the failures.
 */
export function startWorkload(actors: Actor[], inFlightMax: number): { stop(): Promise<string[]> } {
  let running = true
  const failures: string[] = []
  const run = randomBytes(4).toString('hex')
  const publishing = actors.map(async (a) => {
    const inFlight = new Set<Promise<void>>()
    while (running) {
      const seq = ++a.published
      const id = `${run}-${a.index}-${seq}`
      const p = untilDone(
        () => a.sb.publish(`chaos/c${a.index}`, seq, { id }),
        failures,
        `publish ${a.index}/${seq}`,
      ).then((r) => void (r && a.acked.push({ seq, offset: r.offset })))
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
      if (inFlight.size >= inFlightMax) await Promise.race(inFlight)
      await pace(10)
    }
    await Promise.all(inFlight)
  })
  const writing = actors.map(async (a) => {
    let k = 0
    while (running) {
      const value = ++k
      const r = await untilDone(
        () => a.record.set(`c${a.index}`, value).then(() => true),
        failures,
        `write ${a.index}/${value}`,
      )
      if (r) a.lastWritten = value
      await pace(50)
    }
  })
  return {
    async stop() {
      running = false
      await Promise.all([...publishing, ...writing])
      return failures
    },
  }
}

/** One seeded fault on one client's link to one node. `later` undoes it in time. */
export function linkFault(
  actors: Actor[],
  random: () => number,
  tally: Record<string, number>,
  later: (ms: number, fn: () => void) => void,
): void {
  const a = actors[Math.floor(random() * actors.length)]!
  const proxy = a.proxies[Math.floor(random() * a.proxies.length)]!
  const roll = random()
  const count = (k: string) => (tally[k] = (tally[k] ?? 0) + 1)
  if (roll < 0.4) {
    count('cut')
    proxy.cut()
  } else if (roll < 0.65) {
    count('latency')
    proxy.latency(20 + Math.floor(random() * 280))
    later(1000 + random() * 2000, () => proxy.latency(0))
  } else if (roll < 0.85) {
    // Nothing gets through either way, and nothing is lost: TCP never skips bytes. Past the
    // heartbeat timeout (2 s) the peers give the connection up; before it, it carries on.
    count('blackhole')
    proxy.hold(true)
    later(500 + random() * 3000, () => proxy.hold(false))
  } else {
    count('down')
    proxy.down()
    later(500 + random() * 1500, () => proxy.up())
  }
}

/** Timers that undo faults, all cancelled at once when the chaos ends. */
export function undoable(): { later: (ms: number, fn: () => void) => void; cancel: () => void } {
  const timers = new Set<ReturnType<typeof setTimeout>>()
  return {
    later(ms, fn) {
      const t = setTimeout(() => {
        timers.delete(t)
        fn()
      }, ms)
      timers.add(t)
    },
    cancel() {
      for (const t of timers) clearTimeout(t)
      timers.clear()
    },
  }
}

export function healLinks(actors: Actor[]): void {
  for (const p of actors.flatMap((a) => a.proxies)) {
    p.latency(0)
    p.hold(false)
    p.up()
  }
}

/**
 * The ledger: every publish acknowledged, stored in the order it was made; every acknowledged
 * publication at every subscriber once and in order; every acknowledged record write kept and
 * every copy of the record converged. `final` reads the record as the store has it.
 */
export async function checkLedger(
  actors: Actor[],
  failures: string[],
  final: () => Promise<{ data: unknown; version: number } | undefined>,
): Promise<{ publications: number; deliveries: number; recordWrites: number | undefined; reconnects: number }> {
  expect(failures).toEqual([])
  for (const a of actors) {
    expect(a.acked.length, `client ${a.index}: every publish acknowledged`).toBe(a.published)
    const bySeq = [...a.acked].sort((x, y) => x.seq - y.seq)
    // One connection's publications are stored in the order they were made, resends included.
    for (let k = 1; k < bySeq.length; k++) expect(bySeq[k]!.offset).toBeGreaterThan(bySeq[k - 1]!.offset)
  }
  const expected = actors.map((a) => Array.from({ length: a.published }, (_, k) => k + 1))
  await waitFor(
    () => actors.every((a) => a.got.every((g, c) => g.length >= expected[c]!.length)),
    'every acknowledged publication at every subscriber',
    60_000,
  ).catch((e: unknown) => {
    console.log(
      'chaos soak, what each client has per channel:',
      JSON.stringify(
        actors.map((a) => ({
          i: a.index,
          state: a.sb.state,
          lens: a.got.map((g) => g.length),
          exp: expected.map((x) => x.length),
          gaps: a.got.map((g, c) => describeGaps(g, expected[c]!.length)),
        })),
      ),
    )
    throw e
  })
  for (const a of actors) for (let c = 0; c < actors.length; c++) expect(a.got[c]).toEqual(expected[c])

  const record = await final()
  expect(record?.data).toEqual(Object.fromEntries(actors.map((a) => [`c${a.index}`, a.lastWritten])))
  await waitFor(
    () => actors.every((a) => a.record.version === record?.version),
    'every copy of the record at the final version',
    60_000,
  )
  for (const a of actors) expect(a.record.data).toEqual(record?.data)
  return {
    publications: actors.reduce((n, a) => n + a.published, 0),
    deliveries: actors.reduce((n, a) => n + a.got.reduce((m, g) => m + g.length, 0), 0),
    recordWrites: record?.version,
    reconnects: actors.reduce((n, a) => n + a.reconnects, 0),
  }
}

function describeGaps(got: number[], n: number): string {
  const seen = new Map<number, number>()
  for (const x of got) seen.set(x, (seen.get(x) ?? 0) + 1)
  const missing: number[] = []
  const dups: number[] = []
  for (let k = 1; k <= n; k++) if (!seen.has(k)) missing.push(k)
  for (const [k, c] of seen) if (c > 1) dups.push(k)
  let outOfOrder = 0
  for (let k = 1; k < got.length; k++) if (got[k]! < got[k - 1]!) outOfOrder++
  return `missing ${missing.length} [${missing.slice(0, 10).join(',')}] dups ${dups.length} [${dups.slice(0, 5).join(',')}] disorder ${outOfOrder}`
}
