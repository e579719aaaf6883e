import { describe, expect, it } from 'vitest'
import { Switchboard } from '../switchboard.js'
import type { ClientTransportEvents, TransportFactory } from '../transport/transport.js'

/** Bounded waits for a condition, checked again whenever `changed()` reports an event. */
function waiter() {
  const checks = new Set<() => void>()
  return {
    changed: () => checks.forEach((c) => c()),
    until: (check: () => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          checks.delete(test)
          reject(new Error(`timed out waiting for ${what}`))
        }, 5000)
        const test = () => {
          if (!check()) return
          clearTimeout(timer)
          checks.delete(test)
          resolve()
        }
        checks.add(test)
        test()
      }),
  }
}

/** A scripted server: records what the client sends, lets the test push exact frames. */
function scripted() {
  const sent: Record<string, unknown>[] = []
  const wait = waiter()
  let events: ClientTransportEvents | undefined
  const factory: TransportFactory = (_url, e) => {
    events = e
    queueMicrotask(() => e.onOpen())
    return {
      send: (f) => {
        sent.push(JSON.parse(f))
        wait.changed()
      },
      close: (code = 1000, reason = '') => queueMicrotask(() => e.onClose(code, reason)),
    }
  }
  const ofType = (t: string) => sent.filter((m) => m.t === t) as ({ id: number } & Record<string, unknown>)[]
  return {
    factory,
    push: (frame: unknown) => events!.onFrame(JSON.stringify(frame)),
    drop: () => events!.onClose(1006, 'cut'),
    /** The `n`th message of type `t` the client sent (1-based), once it was sent. */
    async sent(t: string, n: number) {
      await wait.until(() => ofType(t).length >= n, `message ${n} of type ${t}`)
      return ofType(t)[n - 1]!
    },
  }
}

/** One event-loop turn: lets anything the client would do asynchronously happen (to show it did not). */
const tick = () => new Promise((r) => setTimeout(r, 0))
const welcome = (id: number) => ({
  t: 'welcome',
  id,
  v: 1,
  client: 'c',
  user: null,
  hb: { interval: 10_000, timeout: 30_000 },
})

describe('recovery order on the client', () => {
  it('live messages batched after a recovering subscribe answer do not overtake the recovered ones', async () => {
    const server = scripted()
    const sb = new Switchboard('http://x.invalid', {
      transport: server.factory,
      reconnect: { minDelayMs: 1, maxDelayMs: 1 },
    })
    const got: number[] = []
    const delivered = waiter()
    const sub = sb.subscribe(
      'room/1',
      (d) => {
        got.push(d as number)
        delivered.changed()
      },
      { recover: true },
    )
    const connecting = sb.connect()
    server.push(welcome((await server.sent('hello', 1)).id))
    await connecting
    server.push([
      { t: 'ok', id: (await server.sent('sub', 1)).id, r: { o: 2, e: 'E' } },
      { t: 'msg', ch: 'room/1', o: 1, e: 'E', d: 1 },
      { t: 'msg', ch: 'room/1', o: 2, e: 'E', d: 2 },
    ])
    await sub.ready
    server.drop()
    // The client reconnects on its own (1 ms backoff) and says hello again.
    server.push(welcome((await server.sent('hello', 2)).id))
    const resub = await server.sent('sub', 2)
    expect(resub.since).toEqual({ offset: 2, epoch: 'E' })
    // The answer with the recovered 3..4 and live 5, 6 in ONE frame, as the server batches them.
    server.push([
      {
        t: 'ok',
        id: resub.id,
        r: {
          o: 4,
          e: 'E',
          rec: {
            pubs: [
              { o: 3, d: 3 },
              { o: 4, d: 4 },
            ],
            complete: true,
          },
        },
      },
      { t: 'msg', ch: 'room/1', o: 5, e: 'E', d: 5 },
      { t: 'msg', ch: 'room/1', o: 6, e: 'E', d: 6 },
    ])
    await delivered.until(() => got.includes(6), 'the last publication')
    expect(got).toEqual([1, 2, 3, 4, 5, 6])
    await sb.close()
  })
  it("a paged recovery: pages apply in order (also in the answer's frame); live messages wait for the last page", async () => {
    const server = scripted()
    const sb = new Switchboard('http://x.invalid', {
      transport: server.factory,
      reconnect: { minDelayMs: 1, maxDelayMs: 1 },
    })
    const got: number[] = []
    const sub = sb.subscribe('room/1', (d) => got.push(d as number), { recover: true })
    const recovered: unknown[] = []
    sub.on('recovered', (r) => recovered.push(r))
    const connecting = sb.connect()
    server.push(welcome((await server.sent('hello', 1)).id))
    await connecting
    server.push([
      { t: 'ok', id: (await server.sent('sub', 1)).id, r: { o: 1, e: 'E' } },
      { t: 'msg', ch: 'room/1', o: 1, e: 'E', d: 1 },
    ])
    await sub.ready
    server.drop()
    server.push(welcome((await server.sent('hello', 2)).id))
    const resub = await server.sent('sub', 2)
    expect(resub.since).toEqual({ offset: 1, epoch: 'E' })
    server.push([
      { t: 'ok', id: resub.id, r: { o: 6, e: 'E', rec: { pubs: [{ o: 2, d: 2 }], complete: false, more: true } } },
      { t: 'recovery', ch: 'room/1', e: 'E', pubs: [{ o: 3, d: 3 }], more: true },
      // A live message (e.g. through a pattern subscription of the same connection) overtaking the pages.
      { t: 'msg', ch: 'room/1', o: 7, e: 'E', d: 7 },
    ])
    await tick()
    expect(got).toEqual([1, 2, 3])
    expect(recovered).toEqual([])
    server.push({ t: 'recovery', ch: 'room/1', e: 'E', pubs: [{ o: 4, d: 4 }], more: true })
    server.push({
      t: 'recovery',
      ch: 'room/1',
      e: 'E',
      pubs: [
        { o: 5, d: 5 },
        { o: 6, d: 6 },
      ],
      complete: true,
    })
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(recovered).toEqual([{ missed: 5, complete: true }])
    server.push({ t: 'msg', ch: 'room/1', o: 8, e: 'E', d: 8 })
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    await sb.close()
  })
})
