import { describe, expect, it } from 'vitest'
import { SubscriptionIndex } from './subscription-index.js'

describe('subscription index', () => {
  it('reports the first and last local member so the broker is (un)subscribed once', () => {
    const idx = new SubscriptionIndex<string>()
    expect(idx.add('a', 's1', false)).toBe(true)
    expect(idx.add('a', 's2', false)).toBe(false)
    expect(idx.remove('a', 's1', false)).toBe(false)
    expect(idx.remove('a', 's2', false)).toBe(true)
    expect(idx.remove('a', 's2', false)).toBe(false)
    expect(idx.exactMembers('a')).toBeUndefined()
  })

  it('finds pattern members matching a channel', () => {
    const idx = new SubscriptionIndex<string>()
    idx.add('chat/*', 's1', true)
    idx.add('chat/**', 's2', true)
    idx.add('news/*', 's3', true)
    const seen: string[] = []
    idx.forEachPatternMatch('chat/a', (m) => seen.push(...m))
    expect(seen.sort()).toEqual(['s1', 's2'])
    expect(idx.count()).toBe(3)
  })
})
