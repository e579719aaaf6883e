import { describe, expect, it } from 'vitest'
import { Switchboard } from '../switchboard.js'
import type { ClientTransportEvents, TransportFactory } from '../transport/transport.js'

/** A scripted server: records what the client sends, lets the test push exact frames. */
function scripted() {
  const sent: Record<string, unknown>[] = []
  let events: ClientTransportEvents | undefined
  const factory: TransportFactory = (_url, e) => {
    events = e
    queueMicrotask(() => e.onOpen())
    return {
      send: (f) => void sent.push(JSON.parse(f)),
      close: (code = 1000, reason = '') => queueMicrotask(() => e.onClose(code, reason)),
    }
  }
  return {
    factory,
    sent,
    push: (frame: unknown) => events!.onFrame(JSON.stringify(frame)),
    drop: () => events!.onClose(1006, 'cut'),
    last: (t: string) => [...sent].reverse().find((m) => m.t === t) as { id: number } & Record<string, unknown>,
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0))
/** Waits (bounded) for `check` to hold, a turn at a time. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await tick()
  if (!check()) throw new Error(`gave up waiting for ${what}`)
}
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
    const sub = sb.subscribe('room/1', (d) => got.push(d as number), { recover: true })
    const connecting = sb.connect()
    await tick()
    server.push(welcome(server.last('hello').id))
    await connecting
    await tick()
    server.push([
      { t: 'ok', id: server.last('sub').id, r: { o: 2, e: 'E' } },
      { t: 'msg', ch: 'room/1', o: 1, e: 'E', d: 1 },
      { t: 'msg', ch: 'room/1', o: 2, e: 'E', d: 2 },
    ])
    await sub.ready
    server.drop()
    await new Promise((r) => setTimeout(r, 20))
    server.push(welcome(server.last('hello').id))
    await tick()
    const resub = server.last('sub')
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
    await tick()
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
    await tick()
    server.push(welcome(server.last('hello').id))
    await connecting
    await tick()
    server.push([
      { t: 'ok', id: server.last('sub').id, r: { o: 1, e: 'E' } },
      { t: 'msg', ch: 'room/1', o: 1, e: 'E', d: 1 },
    ])
    await sub.ready
    server.drop()
    await until(() => server.sent.filter((m) => m.t === 'hello').length === 2, 'the client to reconnect')
    server.push(welcome(server.last('hello').id))
    await tick()
    const resub = server.last('sub')
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
