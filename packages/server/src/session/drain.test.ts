import { CloseCode } from '@switchboard/protocol'
import { describe, expect, it } from 'vitest'
import { seeded } from '../../../../tests/support/seeded.js'
import { ManualClock } from '../testing/manual-clock.js'
import {
  drainTimes,
  drainWindowMs,
  MAX_RECONNECT_HINT_MS,
  reconnectHint,
  SessionDrain,
  type Drainable,
} from './drain.js'

class FakeSession implements Drainable {
  readonly sent: { t: 'drain'; after: number }[] = []
  closed: number | undefined
  send(message: { t: 'drain'; after: number }): void {
    this.sent.push(message)
  }
  close(code: number): void {
    this.closed ??= code
  }
}

describe('drain schedule', () => {
  it('one moment per client, ascending, inside the window, one per equal slot', () => {
    for (const seed of [1, 2, 3]) {
      const times = drainTimes(100, 10_000, seeded(seed))
      expect(times).toHaveLength(100)
      times.forEach((t, i) => {
        expect(t).toBeGreaterThanOrEqual(i * 100)
        expect(t).toBeLessThan((i + 1) * 100)
      })
    }
    expect(drainTimes(0, 10_000)).toEqual([])
    expect(drainTimes(3, 0)).toEqual([0, 0, 0])
  })

  it('tells each session to go with a hint and closes it with DRAINING, spread evenly over the window', async () => {
    const clock = new ManualClock(0)
    const sessions = Array.from({ length: 10 }, () => new FakeSession())
    const drain = new SessionDrain(sessions, clock, 10_000, seeded(7))
    let done = false
    void drain.run().then(() => (done = true))
    const gone = () => sessions.filter((s) => s.closed !== undefined).length

    clock.advance(4_999)
    expect(gone()).toBe(5) // slots 0–4 ended; slot 5 starts at 5,000
    clock.advance(5_000)
    expect(gone()).toBe(10)
    for (const s of sessions) {
      expect(s.closed).toBe(CloseCode.DRAINING)
      expect(s.sent).toHaveLength(1)
      expect(s.sent[0]!.after).toBeGreaterThanOrEqual(0)
      expect(s.sent[0]!.after).toBeLessThan(MAX_RECONNECT_HINT_MS)
    }
    // Ten clients over 10 s: slots of 1 s, so hints up to the cap; they differ (they are jitter).
    expect(new Set(sessions.map((s) => s.sent[0]!.after)).size).toBeGreaterThan(1)
    await Promise.resolve()
    expect(done).toBe(true)
    expect(clock.pending).toBe(0)
  })

  it('the hint is a spread within the client’s slot, so the move ends within the window plus one slot', () => {
    const random = seeded(3)
    for (let k = 0; k < 1000; k++) {
      expect(reconnectHint(4, random)).toBeLessThan(4) // 500 clients over 2 s
      expect(reconnectHint(5_000, random)).toBeLessThan(MAX_RECONNECT_HINT_MS) // 2 clients over 10 s
    }
    expect(reconnectHint(0, random)).toBe(0) // no window: everyone at once, as asked
    const clock = new ManualClock(0)
    const sessions = Array.from({ length: 500 }, () => new FakeSession())
    void new SessionDrain(sessions, clock, 2_000, seeded(5)).run()
    clock.advance(2_000)
    for (const s of sessions) expect(s.sent[0]!.after).toBeLessThan(4)
  })

  it('stop() ends it early: no timer left, the rest are left to the caller', () => {
    const clock = new ManualClock(0)
    const sessions = Array.from({ length: 4 }, () => new FakeSession())
    const drain = new SessionDrain(sessions, clock, 1000)
    void drain.run()
    drain.stop()
    expect(clock.pending).toBe(0)
    clock.advance(2000)
    expect(sessions.filter((s) => s.closed !== undefined).length).toBeLessThanOrEqual(1) // only slot 0 may have gone at 0
  })

  it('close({ drain }) options', () => {
    expect(drainWindowMs(undefined, 10_000)).toBeUndefined()
    expect(drainWindowMs(false, 10_000)).toBeUndefined()
    expect(drainWindowMs(true, 10_000)).toBe(10_000)
    expect(drainWindowMs({ windowMs: 500 }, 10_000)).toBe(500)
  })
})
