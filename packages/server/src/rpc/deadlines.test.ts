import { describe, expect, it } from 'vitest'
import { ManualClock } from '../testing/manual-clock.js'
import { Deadlines, type Expiring } from './deadlines.js'

interface Item extends Expiring {
  name: string
}
const item = (name: string): Item => ({ name, slot: undefined })

describe('Deadlines', () => {
  it('expires items at their deadline (rounded up to its grain), earliest first; removed items never expire', () => {
    const clock = new ManualClock(1_000_000)
    const expired: string[] = []
    const d = new Deadlines<Item>((i) => expired.push(`${i.name}@${clock.now()}`), clock)
    const start = clock.now()
    const [a, b, c, gone] = [item('a'), item('b'), item('c'), item('gone')]
    d.add(c, start + 90)
    d.add(a, start + 20)
    d.add(gone, start + 20)
    d.add(b, start + 52)
    d.remove(gone)
    d.remove(gone) // twice is harmless
    clock.advance(19)
    expect(expired).toEqual([])
    clock.advance(1)
    expect(expired).toEqual([`a@${start + 20}`])
    clock.advance(34) // 52 rounds up to the 5 ms grain: b is due at 55
    expect(expired).toEqual([`a@${start + 20}`])
    clock.advance(1)
    expect(expired).toEqual([`a@${start + 20}`, `b@${start + 55}`])
    clock.advance(1000)
    expect(expired).toEqual([`a@${start + 20}`, `b@${start + 55}`, `c@${start + 90}`])
    expect(d.size).toBe(0)
    expect(clock.pending).toBe(0) // nothing left armed
  })

  it('an earlier deadline added later re-arms the timer; clear disarms it', () => {
    const clock = new ManualClock(1_000_000)
    const expired: string[] = []
    const d = new Deadlines<Item>((i) => expired.push(i.name), clock)
    d.add(item('late'), clock.now() + 60_000)
    d.add(item('soon'), clock.now() + 10)
    clock.advance(10)
    expect(expired).toEqual(['soon'])
    expect(d.size).toBe(1)
    d.clear()
    expect(d.size).toBe(0)
    clock.advance(120_000)
    expect(expired).toEqual(['soon'])
  })
})
