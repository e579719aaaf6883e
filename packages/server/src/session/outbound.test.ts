// The outbound half of a Session and the FlushScheduler behind it: what leaves the session in
// one event-loop turn, in which frames, in which order.
import { setImmediate as nextTurn } from 'node:timers/promises'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../config/index.js'
import { EncodedFrame, type Transport } from '../transports/transport.js'
import { FlushScheduler, type Flushable } from './flush-scheduler.js'
import type { SessionHost } from './session-host.js'
import { Session } from './session.js'

class RecordingTransport implements Transport {
  readonly kind = 'memory'
  readonly remoteAddress = '127.0.0.1'
  readonly sent: EncodedFrame[] = []
  closed: { code: number; reason: string } | undefined
  buffered = 0
  send(frame: EncodedFrame): void {
    if (!this.closed) this.sent.push(frame)
  }
  close(code: number, reason: string): void {
    this.closed ??= { code, reason }
  }
  bufferedBytes(): number {
    return this.buffered
  }
}

function setup(limits: { maxBufferedBytes?: number } = {}) {
  const closed: number[] = []
  const host: SessionHost = {
    config: resolveConfig({ limits }),
    log: pino({ level: 'silent' }),
    scheduler: new FlushScheduler(),
    counters: { framesSent: 0 },
    authenticator: { authenticate: async () => ({ user: null }) } as unknown as SessionHost['authenticator'],
    dispatch: () => {},
    sessionClosed: (_s, code) => closed.push(code),
    now: () => Date.now(),
  }
  const transport = new RecordingTransport()
  const session = new Session('c1', transport, host)
  return { session, transport, closed, host }
}

const frame = (m: object) => new EncodedFrame(JSON.stringify(m))
const texts = (t: RecordingTransport) => t.sent.map((f) => f.text)

describe('Session outbound', () => {
  it('sends a lone frame as the shared frame itself, at the end of the turn', async () => {
    const { session, transport } = setup()
    const f = frame({ t: 'pub', n: 1 })
    session.enqueue(f)
    expect(transport.sent).toHaveLength(0)
    await nextTurn()
    expect(transport.sent).toEqual([f])
    expect(transport.sent[0]).toBe(f) // encoded once, not copied per session
  })

  it('joins the frames of one turn into one array frame, in order, then starts afresh', async () => {
    const { session, transport, host } = setup()
    for (let n = 1; n <= 3; n++) session.enqueue(frame({ n }))
    await nextTurn()
    expect(texts(transport)).toEqual(['[{"n":1},{"n":2},{"n":3}]'])
    expect(host.counters.framesSent).toBe(1)
    session.enqueue(frame({ n: 4 }))
    await nextTurn()
    expect(texts(transport)).toEqual(['[{"n":1},{"n":2},{"n":3}]', '{"n":4}'])
    expect(host.counters.framesSent).toBe(2)
  })

  it('shares one batch frame between the sessions that queued the same frames in a turn', async () => {
    const { host } = setup()
    const sessions = [1, 2, 3, 4].map((n) => {
      const transport = new RecordingTransport()
      return { transport, session: new Session(`c${n}`, transport, host) }
    })
    const a = frame({ n: 'a' })
    const b = frame({ n: 'b' })
    const mine = frame({ n: 'mine' })
    // A fan-out of a and b; the third session also got a frame of its own in between.
    for (const [i, { session }] of sessions.entries()) {
      session.enqueue(a)
      if (i === 2) session.enqueue(mine)
      session.enqueue(b)
    }
    await nextTurn()
    const [s1, s2, s3, s4] = sessions.map((s) => s.transport.sent)
    expect(texts(sessions[0]!.transport)).toEqual(['[{"n":"a"},{"n":"b"}]'])
    expect(s2![0]).toBe(s1![0]) // the same frame object: joined and framed once
    expect(texts(sessions[2]!.transport)).toEqual(['[{"n":"a"},{"n":"mine"},{"n":"b"}]'])
    expect(s4).toHaveLength(1)
    expect(texts(sessions[3]!.transport)).toEqual(['[{"n":"a"},{"n":"b"}]'])
    // Nothing is kept from one turn to the next: the same frames again are joined afresh.
    sessions[0]!.session.enqueue(a)
    sessions[0]!.session.enqueue(b)
    await nextTurn()
    expect(sessions[0]!.transport.sent[1]).not.toBe(s1![0])
    expect(sessions[0]!.transport.sent[1]!.text).toBe(s1![0]!.text)
    expect(s3).toHaveLength(1)
  })

  it('splits a large turn into batches of at most 64 KiB without losing or reordering frames', async () => {
    const { session, transport, host } = setup()
    const pad = 'x'.repeat(10_000)
    for (let n = 0; n < 20; n++) session.enqueue(frame({ n, pad }))
    await nextTurn()
    expect(transport.sent.length).toBeGreaterThan(2)
    const seen: number[] = []
    for (const f of transport.sent) {
      expect(f.text.length).toBeLessThanOrEqual(64 * 1024)
      const v = JSON.parse(f.text) as { n: number } | { n: number }[]
      for (const m of Array.isArray(v) ? v : [v]) seen.push(m.n)
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, n) => n))
    expect(host.counters.framesSent).toBe(transport.sent.length)
  })

  it('closes a slow consumer whose queue outgrows maxBufferedBytes, and drops what it queued', async () => {
    const { session, transport, closed } = setup({ maxBufferedBytes: 1000 })
    session.enqueue(frame({ pad: 'x'.repeat(600) }))
    session.enqueue(frame({ pad: 'y'.repeat(600) }))
    expect(closed).toEqual([4002])
    expect(transport.closed?.code).toBe(4002)
    session.enqueue(frame({ late: true }))
    await nextTurn()
    // A slow consumer loses its queue: nothing queued before or after the close goes out.
    expect(transport.sent).toEqual([])
  })

  it('closes a session whose transport buffer is over the limit after a flush', async () => {
    const { session, transport, closed } = setup({ maxBufferedBytes: 1000 })
    transport.buffered = 5000
    session.enqueue(frame({ n: 1 }))
    await nextTurn()
    expect(closed).toEqual([4002])
  })
})

describe('FlushScheduler', () => {
  it('flushes every scheduled target once per turn, in order, and later schedules in the next turn', async () => {
    const scheduler = new FlushScheduler()
    const log: string[] = []
    const target = (name: string, then?: () => void): Flushable => ({
      flush: () => {
        log.push(name)
        then?.()
      },
    })
    const late = target('late')
    scheduler.schedule(target('a', () => scheduler.schedule(late)))
    scheduler.schedule(target('b'))
    await nextTurn()
    expect(log).toEqual(['a', 'b'])
    await nextTurn()
    expect(log).toEqual(['a', 'b', 'late'])
    for (let turn = 0; turn < 3; turn++) {
      for (let i = 0; i < 100; i++) scheduler.schedule(target(`t${turn}`))
      await nextTurn()
    }
    expect(log.length).toBe(303)
  })
})
