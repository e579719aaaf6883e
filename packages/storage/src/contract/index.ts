/**
 * The RecordStore conformance suite. Every implementation runs it from its own tests:
 *
 *   describeRecordStoreContract('sqlite', async () => ({ store: new SqliteRecordStore({ path }) }))
 *
 * It lives in its own entry point (`@switchboard/storage/contract`) so that only tests load vitest.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { StorageError } from '../errors.js'
import type { RecordStore } from '../record-store.js'

export interface ContractSubject {
  /** A fresh, empty store. */
  store: RecordStore
  /** For persistent stores: opens the same data again after `store` was closed. */
  reopen?: () => Promise<RecordStore>
  /** Removes what the test created (files, tables); called after the store is closed. */
  dispose?: () => Promise<void>
}

export type ContractFactory = () => Promise<ContractSubject>

export interface ContractOptions {
  /** The store keeps data across close and reopen: the factory's subjects provide `reopen`. */
  persistent?: boolean
}

export function describeRecordStoreContract(
  name: string,
  factory: ContractFactory,
  options: ContractOptions = {},
): void {
  describe(`RecordStore contract: ${name}`, () => {
    const open: { subject: ContractSubject; stores: RecordStore[] }[] = []

    async function fresh(): Promise<{
      store: RecordStore
      subject: ContractSubject
      track(s: RecordStore): RecordStore
    }> {
      const subject = await factory()
      const entry = { subject, stores: [subject.store] }
      open.push(entry)
      return { store: subject.store, subject, track: (s) => (entry.stores.push(s), s) }
    }

    afterEach(async () => {
      for (const { subject, stores } of open.splice(0)) {
        for (const s of stores) await s.close().catch(() => {})
        await subject.dispose?.()
      }
    })

    async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
      const err = await promise.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(StorageError)
      expect((err as StorageError).code).toBe(code)
    }

    it('a name never written has no entry', async () => {
      const { store } = await fresh()
      expect(await store.get('todos/1')).toBeNull()
      expect((await store.getMany(['todos/1', 'todos/2'])).size).toBe(0)
    })

    it('creates with expectedVersion 0 at version 1, then each write moves to newVersion', async () => {
      const { store } = await fresh()
      expect(await store.write('todos/1', { title: 'a' }, 0)).toEqual({ ok: true, version: 1 })
      expect(await store.get('todos/1')).toEqual({ version: 1, data: { title: 'a' } })
      expect(await store.write('todos/1', { title: 'b' }, 1)).toEqual({ ok: true, version: 2 })
      expect(await store.write('todos/1', { title: 'c' }, 2, 7)).toEqual({ ok: true, version: 7 })
      expect(await store.get('todos/1')).toEqual({ version: 7, data: { title: 'c' } })
    })

    it('a stale expectedVersion changes nothing and returns the current entry', async () => {
      const { store } = await fresh()
      await store.write('r', { n: 1 }, 0)
      await store.write('r', { n: 2 }, 1)
      expect(await store.write('r', { n: 99 }, 1)).toEqual({ ok: false, current: { version: 2, data: { n: 2 } } })
      expect(await store.write('r', { n: 99 }, 0)).toEqual({ ok: false, current: { version: 2, data: { n: 2 } } })
      expect(await store.write('r', { n: 99 }, 5)).toEqual({ ok: false, current: { version: 2, data: { n: 2 } } })
      expect(await store.write('missing', { n: 1 }, 3)).toEqual({ ok: false, current: null })
      expect(await store.get('r')).toEqual({ version: 2, data: { n: 2 } })
      expect(await store.get('missing')).toBeNull()
    })

    it('delete leaves a tombstone whose version a re-created record continues from', async () => {
      const { store } = await fresh()
      await store.write('r', { a: 1 }, 0)
      expect(await store.delete('r', 2)).toEqual({ ok: false, current: { version: 1, data: { a: 1 } } })
      expect(await store.delete('r', 1)).toEqual({ ok: true, version: 2 })
      const tomb = await store.get('r')
      expect(tomb?.version).toBe(2)
      expect(tomb?.data).toBeUndefined()
      expect(await store.write('r', { a: 2 }, 0)).toEqual({ ok: false, current: { version: 2, data: undefined } })
      expect(await store.write('r', { a: 2 }, 2)).toEqual({ ok: true, version: 3 })
      expect(await store.get('r')).toEqual({ version: 3, data: { a: 2 } })
      expect(await store.delete('r', 3, 10)).toEqual({ ok: true, version: 10 })
      expect((await store.get('r'))?.version).toBe(10)
    })

    it('getMany returns existing entries and tombstones, and leaves out names never written', async () => {
      const { store } = await fresh()
      await store.write('a', { v: 'a' }, 0)
      await store.write('b', { v: 'b' }, 0)
      await store.delete('b', 1)
      const got = await store.getMany(['a', 'b', 'c', 'a'])
      expect([...got.keys()].sort()).toEqual(['a', 'b'])
      expect(got.get('a')).toEqual({ version: 1, data: { v: 'a' } })
      expect(got.get('b')?.version).toBe(2)
      expect(got.get('b')?.data).toBeUndefined()
      expect((await store.getMany([])).size).toBe(0)
    })

    it('round-trips JSON: nesting, arrays, unicode, numbers, null, empty containers', async () => {
      const { store } = await fresh()
      const doc = {
        s: 'héllo ✓ 你好 "quoted" \\ back\nslash',
        n: [0, -1, 1.5, 1e21, 2 ** 53 - 1],
        b: [true, false],
        z: null,
        empty: { o: {}, a: [] },
        deep: { a: { b: { c: { d: [{ e: 'f' }] } } } },
      }
      await store.write('json', doc, 0)
      expect((await store.get('json'))?.data).toEqual(doc)
      // Any JSON value is storable, not just objects.
      await store.write('arr', [1, 'two', { three: 3 }], 0)
      expect((await store.get('arr'))?.data).toEqual([1, 'two', { three: 3 }])
    })

    it('names use the full name alphabet', async () => {
      const { store } = await fresh()
      const name = 'a/B_c.d:e@f-9/' + 'x'.repeat(200)
      await store.write(name, { ok: true }, 0)
      expect(await store.get(name)).toEqual({ version: 1, data: { ok: true } })
      expect(await store.get(name.toUpperCase())).toBeNull()
    })

    it('stores a copy: later mutations of written or returned objects change nothing', async () => {
      const { store } = await fresh()
      const doc = { list: [1, 2], inner: { x: 1 } }
      await store.write('r', doc, 0)
      doc.list.push(3)
      doc.inner.x = 2
      const got = (await store.get('r'))?.data as typeof doc
      expect(got).toEqual({ list: [1, 2], inner: { x: 1 } })
      got.list.push(4)
      expect((await store.get('r'))?.data).toEqual({ list: [1, 2], inner: { x: 1 } })
    })

    it('keeps a 1 MiB document intact', async () => {
      const { store } = await fresh()
      const big = { blob: 'x'.repeat(1024 * 1024), items: Array.from({ length: 1000 }, (_, i) => ({ i })) }
      expect(await store.write('big', big, 0)).toEqual({ ok: true, version: 1 })
      expect((await store.get('big'))?.data).toEqual(big)
    })

    it('concurrent creates of one name: exactly one wins, the others see it', async () => {
      const { store } = await fresh()
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.write('race', { i }, 0)))
      const winners = results.filter((r) => r.ok)
      expect(winners).toHaveLength(1)
      const current = await store.get('race')
      for (const r of results) if (!r.ok) expect(r.current).toEqual(current)
    })

    it('applies calls in the order they were made, also when not awaited in between', async () => {
      const { store } = await fresh()
      const calls = [
        store.write('seq', { step: 1 }, 0),
        store.write('seq', { step: 2 }, 1),
        store.delete('seq', 2),
        store.write('seq', { step: 4 }, 3),
        store.write('seq', { step: 'stale' }, 3),
      ]
      const results = await Promise.all(calls)
      expect(results.slice(0, 4)).toEqual([
        { ok: true, version: 1 },
        { ok: true, version: 2 },
        { ok: true, version: 3 },
        { ok: true, version: 4 },
      ])
      expect(results[4]).toEqual({ ok: false, current: { version: 4, data: { step: 4 } } })
    })

    it('many writes to many names in one turn all commit (group commit keeps each result)', async () => {
      const { store } = await fresh()
      const n = 2500
      const first = await Promise.all(
        Array.from({ length: n }, (_, i) => store.write(`many/${i % 500}`, { i }, Math.floor(i / 500))),
      )
      expect(first.every((r) => r.ok)).toBe(true)
      const got = await store.getMany(Array.from({ length: 500 }, (_, i) => `many/${i}`))
      expect(got.size).toBe(500)
      for (let i = 0; i < 500; i++) expect(got.get(`many/${i}`)).toEqual({ version: 5, data: { i: 2000 + i } })
    })

    it('a failing write in a batch does not fail the others', async () => {
      const { store } = await fresh()
      await store.write('x', { v: 1 }, 0)
      const [a, b, c] = await Promise.all([
        store.write('y', { v: 1 }, 0),
        store.write('x', { v: 2 }, 9),
        store.write('z', { v: 1 }, 0),
      ])
      expect(a).toEqual({ ok: true, version: 1 })
      expect(b).toEqual({ ok: false, current: { version: 1, data: { v: 1 } } })
      expect(c).toEqual({ ok: true, version: 1 })
    })

    it('rejects bad arguments with INVALID_ARGUMENT and non-JSON data with INVALID_DATA', async () => {
      const { store } = await fresh()
      await rejectsWith(store.write('r', { a: 1 }, 0, 0), 'INVALID_ARGUMENT')
      await rejectsWith(store.write('r', { a: 1 }, -1), 'INVALID_ARGUMENT')
      await rejectsWith(store.write('r', { a: 1 }, 1.5), 'INVALID_ARGUMENT')
      await rejectsWith(store.write('', { a: 1 }, 0), 'INVALID_ARGUMENT')
      await rejectsWith(store.write('r', undefined, 0), 'INVALID_ARGUMENT')
      await rejectsWith(store.delete('r', 2, 1), 'INVALID_ARGUMENT')
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      await rejectsWith(store.write('r', cyclic, 0), 'INVALID_DATA')
      await rejectsWith(store.write('r', { big: 10n }, 0), 'INVALID_DATA')
      expect(await store.get('r')).toBeNull()
    })

    it('versions beyond 32 bits survive', async () => {
      const { store } = await fresh()
      const v = 2 ** 40 + 3
      expect(await store.write('r', { a: 1 }, 0, v)).toEqual({ ok: true, version: v })
      expect((await store.get('r'))?.version).toBe(v)
    })

    it('close lets accepted writes commit, then every call rejects with CLOSED', async () => {
      const { store } = await fresh()
      const pending = Array.from({ length: 50 }, (_, i) => store.write(`c/${i}`, { i }, 0))
      await store.close()
      expect((await Promise.all(pending)).every((r) => r.ok)).toBe(true)
      await rejectsWith(store.get('c/1'), 'CLOSED')
      await rejectsWith(store.getMany(['c/1']), 'CLOSED')
      await rejectsWith(store.write('c/1', {}, 1), 'CLOSED')
      await rejectsWith(store.delete('c/1', 1), 'CLOSED')
    })

    // Only stores that persist run this one (a memory store has nothing to reopen).
    const persistentIt = options.persistent ? it : () => {}
    persistentIt('what was acknowledged is there after closing and reopening', async () => {
      const { store, subject, track } = await fresh()
      if (!subject.reopen) throw new Error('a persistent store must provide reopen()')
      const acks = await Promise.all(Array.from({ length: 100 }, (_, i) => store.write(`p/${i}`, { i }, 0)))
      expect(acks.every((r) => r.ok)).toBe(true)
      await store.delete('p/0', 1)
      await store.close()
      const again = track(await subject.reopen())
      expect(await again.get('p/99')).toEqual({ version: 1, data: { i: 99 } })
      expect((await again.get('p/0'))?.version).toBe(2)
      expect((await again.get('p/0'))?.data).toBeUndefined()
      expect(await again.write('p/0', { back: true }, 2)).toEqual({ ok: true, version: 3 })
    })
  })
}
export { describeQueryableStoreContract, type QueryableSubject } from './queries.js'
