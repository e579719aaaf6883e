import { describe, expect, it } from 'vitest'
import { parseQuery } from '@switchboard/protocol'
import { SortedWindow, type WindowRow } from './window.js'

const orderBy = parseQuery('c', { orderBy: [['n', 'asc']] }, { maxResults: 100, maxClauses: 4 }).orderBy
const row = (name: string, n: number, version = 1): WindowRow => ({ name, version, data: { n }, values: [n] })
const names = (w: SortedWindow) => w.visibleRows().map((r) => r.name)
const diff = (w: SortedWindow) => {
  const d = w.takeDiff()
  return { removed: d.removed.sort(), upserted: d.upserted.map((r) => `${r.name}@${r.version}`).sort() }
}

/** A window holding the first rows of a result known to be complete (`more` false). */
function complete(visible: number, capacity: number, ...rows: WindowRow[]): SortedWindow {
  const w = new SortedWindow(orderBy, visible, capacity)
  w.more = false
  for (const r of rows) w.offer(r)
  w.takeDiff()
  return w
}

describe('SortedWindow', () => {
  it('keeps rows in query order and only the first `visible` in sight', () => {
    const w = complete(2, 4, row('c/c', 3), row('c/a', 1), row('c/b', 2))
    expect(names(w)).toEqual(['c/a', 'c/b'])
    expect(w.size).toBe(3)
  })

  it('reports rows pushed across the visible edge by others', () => {
    const w = complete(2, 4, row('c/a', 1), row('c/b', 2), row('c/c', 3))
    w.offer(row('c/z', 0))
    expect(diff(w)).toEqual({ removed: ['c/b'], upserted: ['c/z@1'] })
    w.remove('c/a')
    expect(diff(w)).toEqual({ removed: ['c/a'], upserted: ['c/b@1'] })
  })

  it('a row that leaves and comes back unchanged within a batch is no change; a new version is', () => {
    const w = complete(3, 4, row('c/a', 1), row('c/b', 2))
    w.remove('c/a')
    w.offer(row('c/a', 1))
    expect(w.changed).toBe(true)
    expect(diff(w)).toEqual({ removed: [], upserted: [] })
    w.offer(row('c/a', 5, 2))
    expect(names(w)).toEqual(['c/b', 'c/a'])
    expect(diff(w)).toEqual({ removed: [], upserted: ['c/a@2'] })
  })

  it('evicts past capacity and then knows more rows exist; refills when the visible part runs short', () => {
    const w = complete(2, 3, row('c/a', 1), row('c/b', 2), row('c/c', 3))
    expect(w.more).toBe(false)
    w.offer(row('c/x', 0))
    expect(w.size).toBe(3)
    expect(w.get('c/c')).toBeUndefined()
    expect(w.more).toBe(true)
    // A row beyond the last held one may not be the next in order: it is left to storage.
    w.offer(row('c/d', 4))
    expect(w.get('c/d')).toBeUndefined()
    w.remove('c/x')
    w.remove('c/a')
    expect(w.needsRefill).toBe(true)
    w.append(row('c/c', 3))
    w.more = false
    expect(w.needsRefill).toBe(false)
    expect(names(w)).toEqual(['c/b', 'c/c'])
  })

  it('an empty window that may have more rows takes none until refilled', () => {
    const w = new SortedWindow(orderBy, 2, 3)
    w.offer(row('c/a', 5))
    expect(w.size).toBe(0)
    expect(w.needsRefill).toBe(true)
  })

  it('a complete window appends rows beyond its last one while it has room', () => {
    const w = complete(2, 3, row('c/a', 1))
    w.offer(row('c/b', 2))
    w.offer(row('c/c', 3))
    w.offer(row('c/d', 4))
    expect(w.size).toBe(3)
    expect(w.more).toBe(true)
    expect(diff(w)).toEqual({ removed: [], upserted: ['c/b@1'] })
  })

  it('an update that keeps its place, or moves, keeps the record held; one that falls beyond releases it', () => {
    const events: string[] = []
    const w = new SortedWindow(orderBy, 2, 3, {
      held: (name) => events.push(`+${name}`),
      released: (name) => events.push(`-${name}`),
    })
    for (const r of [row('c/a', 1), row('c/b', 2), row('c/c', 3)]) w.append(r)
    w.takeDiff()
    events.length = 0
    w.offer(row('c/b', 2.5, 2)) // in place
    w.offer(row('c/c', 0, 2)) // moves to the front
    expect(names(w)).toEqual(['c/c', 'c/a'])
    expect(diff(w)).toEqual({ removed: ['c/b'], upserted: ['c/c@2'] })
    expect(events).toEqual([])
    // The last row held, with more rows in storage: moving earlier keeps it, moving later does not.
    w.offer(row('c/b', 2.2, 3))
    expect(w.get('c/b')?.version).toBe(3)
    w.offer(row('c/b', 9, 4))
    expect(w.get('c/b')).toBeUndefined()
    expect(events).toEqual(['-c/b'])
    expect(w.more).toBe(true)
  })
})
