/**
 * The QueryableStore conformance suite: every store that runs queries must return exactly what
 * the protocol's reference semantics (compileWhere, compareSorted) return over the same
 * records — for every operator, every JSON type (missing, null, booleans, integers, floats,
 * strings by code point, arrays, objects), index paths, odd keys, ordering, limits and paging.
 *
 *   describeQueryableStoreContract('sqlite', async () => ({ store: new SqliteRecordStore({ path }) }))
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  compareSorted,
  compileWhere,
  parseQuery,
  sortValuesOf,
  type QueryOptions,
  type QuerySpec,
} from '@switchboard/protocol'
import type { QueryableStore, StoreQuery } from '../query-store.js'
import type { RecordStore } from '../record-store.js'

export interface QueryableSubject {
  /** A fresh, empty store. */
  store: RecordStore & QueryableStore
  dispose?: () => Promise<void>
}

const LIMITS = { maxResults: 10_000, maxClauses: 64 }

/** Every JSON type at `v`, plus paths into nested objects, arrays and odd keys. */
const ZOO: Record<string, unknown> = {
  'z/missing': { other: 1 },
  'z/null': { v: null },
  'z/false': { v: false },
  'z/true': { v: true },
  'z/neg': { v: -2.5 },
  'z/zero': { v: 0 },
  'z/int': { v: 7 },
  'z/float': { v: 7.5 },
  'z/big': { v: 1e15 },
  'z/empty': { v: '' },
  'z/upper': { v: 'B' },
  'z/lower': { v: 'a' },
  'z/accent': { v: 'é' },
  'z/bmp': { v: '\uFF5E' },
  'z/astral': { v: '\u{1F600}' },
  'z/numstr': { v: '7' },
  'z/arr': { v: [1, 'a', null, true] },
  'z/arr2': { v: [[1], { a: 1 }, 7.0] },
  'z/emptyarr': { v: [] },
  'z/obj': { v: { a: 1, '0': 'key zero' } },
  'z/nested': { n: { deep: { x: 3 } }, list: [{ t: 'first' }, { t: 'second' }] },
  'z/objlist': { list: { '0': { t: 'object key' } } },
  'z/odd': { 'we"ird': 1, "it's": 2, 'back\\slash': 3, 'sp ace': 4, ünï: 5, '[0]': 6, $: 7 },
  'z/dup1': { v: 7, other: 2 },
  'z/dup2': { v: 7, other: 1 },
}
/** Near the collection but not in it. */
const NEIGHBOURS: Record<string, unknown> = {
  'z0/x': { v: 7 },
  'z/sub/x': { v: 7 },
  'zz/x': { v: 7 },
  z: { v: 7 },
  'y/x': { v: 7 },
}

const SCALARS = [null, false, true, 0, 7, 7.0, -2.5, 1e15, '', 'a', 'B', '7', 'é', '\uFF5E', '\u{1F600}']
const RANGE_OPERANDS = [0, 7, -3, 7.25, 'a', 'B', '', '\uFF5E', 'é']
const PATHS = ['v', 'n.deep.x', 'list.0.t', 'list.1.t', 'v.0', 'v.1', 'v.a', 'v.0.0', 'other']
const ODD_PATHS = ['we"ird', "it's", 'back\\slash', 'sp ace', 'ünï', '[0]', '$']

export function describeQueryableStoreContract(name: string, factory: () => Promise<QueryableSubject>): void {
  describe(`QueryableStore contract: ${name}`, () => {
    const open: QueryableSubject[] = []
    afterEach(async () => {
      for (const s of open.splice(0)) {
        await s.store.close().catch(() => {})
        await s.dispose?.()
      }
    })

    async function seeded(docs: Record<string, unknown> = { ...ZOO, ...NEIGHBOURS }) {
      const subject = await factory()
      open.push(subject)
      const { store } = subject
      await Promise.all(Object.entries(docs).map(([n, d]) => store.write(n, d, 0)))
      return store
    }

    /** The reference: the protocol's semantics over the documents. */
    function reference(docs: Record<string, unknown>, q: StoreQuery): string[] {
      const match = compileWhere(q.where)
      const rows = Object.entries(docs)
        .filter(([n]) => n.startsWith(`${q.collection}/`) && !n.slice(q.collection.length + 1).includes('/'))
        .filter(([, d]) => d !== undefined && match(d))
        .map(([n, d]) => ({ n, values: sortValuesOf(q.orderBy, d) }))
        .filter((r) => !q.after || compareSorted(q.orderBy, r.values, r.n, q.after.values, q.after.name) > 0)
      rows.sort((a, b) => compareSorted(q.orderBy, a.values, a.n, b.values, b.n))
      return rows.slice(0, q.limit).map((r) => r.n)
    }

    const spec = (options: QueryOptions, collection = 'z'): QuerySpec => parseQuery(collection, options, LIMITS)
    const names = async (store: QueryableStore, q: StoreQuery) => (await store.query(q)).map((r) => r.name)

    it('returns the collection’s live records with name, version and data; never neighbours or tombstones', async () => {
      const store = await seeded()
      await store.delete('z/zero', 1)
      await store.write('z/int', { v: 8 }, 1)
      const rows = await store.query(spec({}))
      expect(rows.map((r) => r.name)).toEqual(
        Object.keys(ZOO)
          .filter((n) => n !== 'z/zero')
          .sort(),
      )
      expect(rows.find((r) => r.name === 'z/int')).toEqual({ name: 'z/int', version: 2, data: { v: 8 } })
      expect(await names(store, spec({}, 'z/sub'))).toEqual(['z/sub/x'])
      expect(await names(store, spec({}, 'nothing'))).toEqual([])
    })

    it('pins down the semantics every backend shares', async () => {
      const store = await seeded()
      const where = async (w: unknown[]) => (await names(store, spec({ where: [w as never] }))).sort()
      expect(await where(['v', '==', 7])).toEqual(['z/dup1', 'z/dup2', 'z/int'])
      expect(await where(['v', '==', true])).toEqual(['z/true'])
      expect(await where(['v', '==', null])).toEqual(['z/null'])
      expect(await where(['v', '>', 'B'])).toEqual(['z/accent', 'z/astral', 'z/bmp', 'z/lower'])
      expect(await where(['v', '>', '\uFF5E'])).toEqual(['z/astral'])
      expect(await where(['v', '<', 0])).toEqual(['z/neg'])
      expect(await where(['v', '!=', 7])).not.toContain('z/missing')
      expect(await where(['v', 'array-contains', 7])).toEqual(['z/arr2'])
      expect(await where(['v', 'array-contains', 1])).toEqual(['z/arr'])
      expect(await where(['v', 'exists', false])).toEqual(['z/missing', 'z/nested', 'z/objlist', 'z/odd'])
      expect(await where(['list.0.t', '==', 'object key'])).toEqual(['z/objlist'])
      expect(await where(['list.0.t', '==', 'first'])).toEqual(['z/nested'])
      expect(await where(["it's", '==', 2])).toEqual(['z/odd'])
      // Ties by name follow the last key's direction.
      const sevens = (direction: 'asc' | 'desc') =>
        names(store, spec({ where: [['v', '==', 7]], orderBy: [['v', direction]] }))
      expect(await sevens('desc')).toEqual(['z/int', 'z/dup2', 'z/dup1'])
      expect(await sevens('asc')).toEqual(['z/dup1', 'z/dup2', 'z/int'])
    })

    it('every operator on every type agrees with the reference', async () => {
      const store = await seeded()
      const conditions: unknown[][] = []
      for (const path of PATHS) {
        for (const v of SCALARS) conditions.push([path, '==', v], [path, '!=', v], [path, 'array-contains', v])
        for (const v of RANGE_OPERANDS) for (const op of ['<', '<=', '>', '>=']) conditions.push([path, op, v])
        conditions.push([path, 'in', [7, 'a', null, true]], [path, 'not-in', [7, null, 'key zero']])
        conditions.push([path, 'exists', true], [path, 'exists', false])
      }
      for (const path of ODD_PATHS) conditions.push([path, '==', ODD_PATHS.indexOf(path) + 1], [path, 'exists', true])
      for (const c of conditions) {
        const q = spec({ where: [c as never] })
        expect((await names(store, q)).sort(), JSON.stringify(c)).toEqual(reference(ZOO, q).sort())
      }
    })

    it('orders every type ascending and descending, ties by name, and pages with after', async () => {
      const store = await seeded()
      const orders: QueryOptions['orderBy'][] = [
        [['v', 'asc']],
        [['v', 'desc']],
        [
          ['v', 'desc'],
          ['other', 'asc'],
        ],
        [
          ['other', 'desc'],
          ['v', 'asc'],
        ],
        [['list.0.t', 'asc']],
        [['v.0', 'desc']],
      ]
      for (const orderBy of orders) {
        const full = spec({ orderBy })
        const expected = reference(ZOO, full)
        expect(await names(store, full), JSON.stringify(orderBy)).toEqual(expected)
        // Page through in threes, each page after the last row of the one before.
        const paged: string[] = []
        let after: StoreQuery['after']
        for (let pages = 0; pages <= expected.length; pages++) {
          const page = await store.query({ ...full, limit: 3, ...(after && { after }) })
          paged.push(...page.map((r) => r.name))
          const last = page[page.length - 1]
          if (page.length < 3 || !last) break
          after = { values: sortValuesOf(full.orderBy, last.data), name: last.name }
        }
        expect(paged, `paged ${JSON.stringify(orderBy)}`).toEqual(expected)
      }
    })

    it('limits after filtering and ordering', async () => {
      const store = await seeded()
      const q = spec({ where: [['v', 'exists', true]], orderBy: [['v', 'desc']], limit: 4 })
      expect(await names(store, q)).toEqual(reference(ZOO, q))
      expect(reference(ZOO, q)).toHaveLength(4)
    })

    it('declared indexes change no answer, and declaring twice is harmless', async () => {
      const store = await seeded()
      await store.ensureIndex('z', [['v'], ['other']])
      await store.ensureIndex('z', [['v'], ['other']])
      await store.ensureIndex('z', [['list', '0', 't']])
      const queries = [
        spec({ where: [['v', '==', 7]], orderBy: [['other', 'asc']] }),
        spec({ where: [['v', '>', 0]], orderBy: [['v', 'desc']], limit: 3 }),
        spec({ where: [['list.0.t', '>=', 'a']] }),
        spec({
          orderBy: [
            ['v', 'asc'],
            ['other', 'desc'],
          ],
        }),
      ]
      for (const q of queries) expect(await names(store, q)).toEqual(reference(ZOO, q))
      await store.write('z/new', { v: 7, other: 0 }, 0)
      expect(await names(store, queries[0] as QuerySpec)).toEqual(['z/int', 'z/new', 'z/dup2', 'z/dup1'])
    })

    it('random documents and random queries agree with the reference', async () => {
      const random = prng(0x5eed)
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
      const values = [undefined, null, true, false, 0, 1, 2, 2.5, -1, 'a', 'b', 'A', '', ['a', 1], { k: 1 }]
      const docs: Record<string, unknown> = {}
      for (let i = 0; i < 80; i++) {
        const doc: Record<string, unknown> = {}
        for (const key of ['a', 'b', 'c']) {
          const v = pick(values)
          if (v !== undefined) doc[key] = v
        }
        if (random() < 0.5) doc.tags = [pick(['x', 'y', 'z']), pick([1, 2, 'x'])]
        if (random() < 0.5) doc.n = { x: pick(values) ?? null }
        docs[`r/${i.toString(36)}`] = doc
      }
      const store = await seeded(docs)
      const paths = ['a', 'b', 'c', 'tags', 'n.x', 'tags.0']
      const scalars = values.filter((v) => v !== undefined && (v === null || typeof v !== 'object'))
      for (let i = 0; i < 150; i++) {
        const where: unknown[][] = []
        for (let j = Math.floor(random() * 3); j > 0; j--) {
          const op = pick(['==', '!=', '<', '<=', '>', '>=', 'in', 'not-in', 'array-contains', 'exists'])
          const value =
            op === 'in' || op === 'not-in'
              ? [pick(scalars), pick(scalars)]
              : op === 'exists'
                ? random() < 0.5
                : ['<', '<=', '>', '>='].includes(op)
                  ? pick([0, 1, 2, 'a', 'b', ''])
                  : pick(scalars)
          where.push([pick(paths), op, value])
        }
        const orderBy: [string, 'asc' | 'desc'][] = []
        for (let j = Math.floor(random() * 3); j > 0; j--) orderBy.push([pick(paths), pick(['asc', 'desc'])])
        const base = parseQuery('r', { where, orderBy, limit: 1 + Math.floor(random() * 30) }, LIMITS)
        const full = reference(docs, { ...base, limit: 10_000 })
        const afterName = random() < 0.3 ? pick(full) : undefined
        const q: StoreQuery = afterName
          ? { ...base, after: { values: sortValuesOf(base.orderBy, docs[afterName]), name: afterName } }
          : base
        expect(await names(store, q), JSON.stringify({ where, orderBy, limit: q.limit, afterName })).toEqual(
          reference(docs, q),
        )
      }
    })
  })
}

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
