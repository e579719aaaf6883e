import { describe, expect, it } from 'vitest'
import { mergeMessages, type ChannelMessage } from './merge-messages.js'

const msg = (offset: number, epoch = 'e1'): ChannelMessage<number> => ({ channel: 'c', data: offset, offset, epoch })

describe('mergeMessages', () => {
  it('orders by offset, keeps each position once, and cuts to the newest', () => {
    const live = [msg(4), msg(5)]
    const merged = mergeMessages(live, [msg(2), msg(3), msg(4)], 3)
    expect(merged.map((m) => m.offset)).toEqual([3, 4, 5])
  })

  it('returns the same array when nothing is new (no re-render)', () => {
    const list = [msg(1), msg(2)]
    expect(mergeMessages(list, [msg(2)], 10)).toBe(list)
  })

  it('puts a new epoch (a reset stream) after the older one', () => {
    const merged = mergeMessages([msg(7, 'old'), msg(8, 'old')], [msg(1, 'new')], 10)
    expect(merged.map((m) => `${m.epoch}:${m.offset}`)).toEqual(['old:7', 'old:8', 'new:1'])
  })
})
