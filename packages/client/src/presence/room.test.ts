import { describe, expect, it } from 'vitest'
import { PresenceRoom, type PresenceMember } from './room.js'

function room() {
  const changes: string[] = []
  const link = { join: async () => {}, leave: async () => {}, watchChanged: () => changes.push('watch') }
  const r = new PresenceRoom('chat/a', 'chat/a', link)
  const events: string[] = []
  for (const kind of ['join', 'update', 'leave'] as const)
    r.on(kind, (m: PresenceMember) => events.push(`${kind}:${m.clientId}`))
  return { r, events, changes }
}

describe('PresenceRoom (client)', () => {
  it('a snapshot replaces the list; diffs upsert and remove; events tell joins, updates and leaves apart', () => {
    const { r, events } = room()
    const lists: string[][] = []
    r.subscribe((ms) => lists.push(ms.map((m) => m.clientId)))
    r.applySnapshot([
      { u: 'a', c: 'c1' },
      { u: 'b', c: 'c2', m: { s: 1 } },
    ])
    r.applyDiff(
      [
        { u: 'b', c: 'c2', m: { s: 2 } },
        { u: null, c: 'c3' },
      ],
      ['c1', 'never-seen'],
    )
    expect(lists).toEqual([
      ['c1', 'c2'],
      ['c2', 'c3'],
    ])
    expect(events).toEqual(['join:c1', 'join:c2', 'leave:c1', 'update:c2', 'join:c3'])
    expect(r.members).toEqual([
      { userId: 'b', clientId: 'c2', meta: { s: 2 } },
      { userId: null, clientId: 'c3', meta: null },
    ])
    expect(r.count).toBe(2)
  })

  it('a new snapshot (after a reconnect) is diffed against what was known', () => {
    const { r, events } = room()
    r.subscribe(() => {})
    r.applySnapshot([
      { u: 'a', c: 'old' },
      { u: 'b', c: 'same', m: 1 },
    ])
    events.length = 0
    r.applySnapshot([
      { u: 'a', c: 'new' },
      { u: 'b', c: 'same', m: 2 },
    ])
    expect(events).toEqual(['join:new', 'update:same', 'leave:old'])
  })

  it('watch mode follows the listeners: members win over counts; count listeners get list sizes', () => {
    const { r, changes } = room()
    const counts: number[] = []
    const offCount = r.subscribeCount((n) => counts.push(n))
    expect(r.watchMode).toBe('counts')
    r.applyCount(7)
    const offList = r.subscribe(() => {})
    expect(r.watchMode).toBe('members')
    r.applySnapshot([{ u: null, c: 'x' }])
    offList()
    expect(r.watchMode).toBe('counts')
    offCount()
    expect(r.watchMode).toBeNull()
    expect(counts).toEqual([7, 1])
    expect(changes).toEqual(['watch', 'watch', 'watch', 'watch'])
  })
})
