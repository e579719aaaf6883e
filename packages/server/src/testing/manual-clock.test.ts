import { describe, expect, it } from 'vitest'
import { ManualClock } from './manual-clock.js'

describe('ManualClock', () => {
  it('runs what falls due in time order, each at its own time, including calls scheduled meanwhile', () => {
    const clock = new ManualClock(1000)
    const seen: string[] = []
    clock.schedule(30, () => seen.push(`b@${clock.now()}`))
    clock.schedule(10, () => {
      seen.push(`a@${clock.now()}`)
      clock.schedule(5, () => seen.push(`a2@${clock.now()}`))
    })
    clock.schedule(30, () => seen.push(`c@${clock.now()}`)) // same time as b: after it
    const cancel = clock.schedule(20, () => seen.push('cancelled'))
    cancel()
    clock.advance(29)
    expect(seen).toEqual(['a@1010', 'a2@1015'])
    expect(clock.now()).toBe(1029)
    clock.advance(1)
    expect(seen).toEqual(['a@1010', 'a2@1015', 'b@1030', 'c@1030'])
    expect(clock.pending).toBe(0)
  })

  it('refuses to spin forever on a call that re-schedules itself without delay', () => {
    const clock = new ManualClock(0)
    const again = (): void => void clock.schedule(0, again)
    clock.schedule(1, again)
    expect(() => clock.advance(1)).toThrow(/calls at 1/)
  })
})
