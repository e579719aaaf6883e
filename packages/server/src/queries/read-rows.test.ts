import { describe, expect, it } from 'vitest'
import { parseQuery } from '@switchboard/protocol'
import { MemoryRecordStore, type StoreQuery } from '@switchboard/storage'
import { readReadable } from './read-rows.js'

/** A memory store with `count` records `c/<i>` ({ n: i }), recording the limit of each storage query. */
async function storeOf(count: number): Promise<{ store: MemoryRecordStore; limits: number[] }> {
  const store = new MemoryRecordStore()
  for (let i = 0; i < count; i++) await store.write(`c/${String(i).padStart(5, '0')}`, { n: i }, 0)
  const limits: number[] = []
  const query = store.query.bind(store)
  store.query = (q: StoreQuery) => {
    limits.push(q.limit)
    return query(q)
  }
  return { store, limits }
}

const spec = parseQuery('c', { orderBy: [['n', 'asc']] }, { maxResults: 2000, maxClauses: 4 })

describe('readReadable', () => {
  it('reads exactly the rows wanted when the rules refuse none', async () => {
    const { store, limits } = await storeOf(3000)
    const read = await readReadable(store, spec, () => true, 1250)
    expect(read.rows.map((r) => (r.data as { n: number }).n)).toEqual([...Array(1250).keys()])
    expect(read.exhausted).toBe(false)
    expect(limits).toEqual([1000, 250])
  })

  it('doubles its pages while the rules refuse rows, and tells when storage ran out', async () => {
    const { store, limits } = await storeOf(100)
    const read = await readReadable(store, spec, (r) => (r.data as { n: number }).n % 10 === 0, 8)
    expect(read.rows.map((r) => (r.data as { n: number }).n)).toEqual([0, 10, 20, 30, 40, 50, 60, 70])
    expect(limits).toEqual([8, 16, 32, 64])
    const all = await readReadable(store, spec, () => true, 500)
    expect(all.rows).toHaveLength(100)
    expect(all.exhausted).toBe(true)
  })
})
