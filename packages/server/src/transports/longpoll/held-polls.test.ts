import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../testing/manual-clock.js'
import { HeldPolls, type PollHolder } from './held-polls.js'

describe('held polls', () => {
  it('ends every hold after holdMs, in order, on one timer; released and restarted holds are not ended early', () => {
    const clock = new ManualClock(0)
    const polls = new HeldPolls(clock, 1000)
    const over: string[] = []
    const holder = (name: string): PollHolder => ({ holdOver: () => void over.push(name) })
    const [a, b, c] = [holder('a'), holder('b'), holder('c')]
    polls.hold(a)
    clock.advance(100)
    polls.hold(b)
    clock.advance(100)
    polls.hold(c)
    expect(clock.pending).toBe(1)
    polls.release(b) // answered
    clock.advance(700)
    polls.hold(a) // a new poll of the same session: its hold starts again
    clock.advance(99) // t = 999
    expect(over).toEqual([])
    clock.advance(201) // t = 1200: c (held at 200) is due, a (held again at 900) is not
    expect(over).toEqual(['c'])
    clock.advance(700) // t = 1900
    expect(over).toEqual(['c', 'a'])
    expect(clock.pending).toBe(0) // nothing held, nothing scheduled
  })
})
