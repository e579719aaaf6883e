import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { FlushScheduler, type Flushable } from './flush-scheduler.js'

/** A session whose flush takes `costMs` of CPU and logs its name. */
const costly = (name: string, costMs: number, log: string[]): Flushable => ({
  flush() {
    const until = performance.now() + costMs
    while (performance.now() < until);
    log.push(name)
  },
})

describe('FlushScheduler', () => {
  it('flushes everything scheduled in a turn at the end of it, once each, in order', async () => {
    const log: string[] = []
    const s = new FlushScheduler()
    for (const n of ['a', 'b', 'c']) s.schedule(costly(n, 0, log))
    expect(log).toEqual([])
    await nextTurn()
    expect(log).toEqual(['a', 'b', 'c'])
  })

  it('gives the event loop back during a long flush, then finishes the batch before what came later', async () => {
    const log: string[] = []
    const s = new FlushScheduler(Date.now, 1)
    const batch = Array.from({ length: 64 }, (_, i) => costly(`s${i}`, 0.2, log))
    for (const f of batch) s.schedule(f)
    // Another turn's I/O callback (here an immediate queued behind the flush) runs in between.
    setImmediate(() => {
      log.push('other turn')
      s.schedule(costly('later', 0, log))
    })
    while (!log.includes('later')) await nextTurn()
    const other = log.indexOf('other turn')
    expect(other).toBeGreaterThan(0)
    expect(other).toBeLessThan(64)
    expect(log.filter((x) => x !== 'other turn')).toEqual([...batch.map((_, i) => `s${i}`), 'later'])
  })
})
