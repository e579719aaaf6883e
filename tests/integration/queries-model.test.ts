/**
 * Seeded randomised model test of live queries: three readers (two users and an anonymous
 * client, under a read rule that hides records from everyone but their owner) hold many live
 * queries with mixed operators, orderings and limits over one collection, while random
 * creates, updates, deletes and permission-relevant changes (hiding, changing owners) are
 * written concurrently through the server and through clients. At every quiet point each
 * query's rows equal (1) a reference evaluation written here, independent of the server's
 * code, over the records as stored, and (2) the one-off query (`POST /api/query`) as that
 * reader. Against memory, SQLite and PostgreSQL storage; with memory and PostgreSQL as two
 * nodes sharing the storage and an engine (the in-process hub), writes and readers spread over
 * both, so other nodes' changes reach the queries through the engine.
 *
 * The seed is printed; replay with SEED=<seed> npx vitest run tests/integration/queries-model
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { LiveQuery, QueryOptions, Switchboard } from '@switchboard/client'
import { MemoryHub, type SwitchboardConfigInput } from '@switchboard/server'
import { MemoryRecordStore } from '@switchboard/storage'
import { hsToken, SECRET } from '../support/jwt.js'
import { Resources } from '../support/server.js'
import { storageKinds, type StorageKind } from '../support/storages.js'
import { waitFor } from '../support/wait.js'
import { seeded } from '../support/seeded.js'

const SEED = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31))
const RECORDS = 36
const QUERIES_PER_READER = 24
const ROUNDS = 25

const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-queries-model-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// ---- the reference: docs/queries.md's semantics, written from scratch ----------------------

type Doc = Record<string, unknown>
const MISSING = Symbol('missing')

function at(doc: unknown, path: string): unknown {
  let v: unknown = doc
  for (const seg of path.split('.')) {
    if (Array.isArray(v)) {
      if (!/^(0|[1-9][0-9]*)$/.test(seg) || Number(seg) >= v.length) return MISSING
      v = v[Number(seg)]
    } else if (v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, seg)) {
      v = (v as Doc)[seg]
    } else {
      return MISSING
    }
  }
  return v
}

function rank(v: unknown): number {
  if (v === MISSING) return 0
  if (v === null) return 1
  if (v === false) return 2
  if (v === true) return 3
  if (typeof v === 'number') return 4
  if (typeof v === 'string') return 5
  return 6
}

function order(a: unknown, b: unknown): number {
  const d = rank(a) - rank(b)
  if (d !== 0) return d
  if (typeof a === 'number') return Math.sign(a - (b as number))
  // Code point order is UTF-8 byte order.
  if (typeof a === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b as string))
  return 0
}

function holds(doc: Doc, [path, op, operand]: readonly [string, string, unknown]): boolean {
  const v = at(doc, path)
  const same = (x: unknown) => v !== MISSING && rank(v) === rank(x) && order(v, x) === 0 && rank(v) < 6
  switch (op) {
    case '==':
      return same(operand)
    case '!=':
      return v !== MISSING && !same(operand)
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (typeof v !== typeof operand || v === MISSING) return false
      const d = order(v, operand)
      return op === '<' ? d < 0 : op === '<=' ? d <= 0 : op === '>' ? d > 0 : d >= 0
    }
    case 'in':
      return (operand as unknown[]).some(same)
    case 'not-in':
      return v !== MISSING && !(operand as unknown[]).some(same)
    case 'array-contains':
      return Array.isArray(v) && v.some((e) => rank(e) === rank(operand) && rank(e) < 6 && order(e, operand) === 0)
    case 'exists':
      return (v !== MISSING) === operand
  }
  throw new Error(`unknown op ${op}`)
}

type Reader = 'alice' | 'bob' | null
const readable = (doc: Doc, reader: Reader) => doc.hidden !== true || (reader !== null && doc.owner === reader)

function reference(docs: Map<string, { data: Doc; version: number }>, q: QueryOptions, reader: Reader): string[] {
  const keys = q.orderBy ?? []
  const rows = [...docs]
    .filter(([, r]) => readable(r.data, reader) && (q.where ?? []).every((c) => holds(r.data, c)))
    .sort(([an, a], [bn, b]) => {
      for (const [path, dir] of keys) {
        const d = order(at(a.data, path), at(b.data, path))
        if (d !== 0) return dir === 'desc' ? -d : d
      }
      const d = an < bn ? -1 : an > bn ? 1 : 0
      return keys.length > 0 && keys[keys.length - 1]?.[1] === 'desc' ? -d : d
    })
  return rows.slice(0, q.limit ?? 1000).map(([n, r]) => `${n}@${r.version}`)
}

// ---- the run ----------------------------------------------------------------------------------

describe.each(storageKinds)('live queries match the model on $name storage', (kind: StorageKind) => {
  it(`random writes, permission changes and many queries (seed ${SEED})`, async () => {
    console.log(
      `queries model (${kind.name}) seed: ${SEED} — replay: SEED=${SEED} npx vitest run tests/integration/queries-model`,
    )
    const random = seeded(SEED)
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
    const { storage, remove } = await kind.create()
    res.add(null, remove)
    const rules = join(dir, `rules-${kind.name}.yaml`)
    writeFileSync(
      rules,
      `records:\n  'items/*': { read: '!has(old.hidden) || old.hidden != true || (user != null && old.owner == user.id)', write: 'true', delete: 'true' }\n`,
    )
    const config: SwitchboardConfigInput = {
      storage,
      auth: { anonymous: true, jwt: { secret: SECRET } },
      permissions: rules,
      limits: { messagesPerSecond: 100_000 },
    }
    // SQLite is one process's file: a single node there.
    const hub = new MemoryHub()
    const shared = kind.name === 'memory' ? new MemoryRecordStore() : undefined
    const node = () => res.server(config, { engine: hub.engine(), ...(shared && { store: shared }) })
    const a = await node()
    const b = kind.name === 'sqlite' ? a : await node()
    const { url, server } = a
    const anyServer = () => pick([a.server, b.server])

    const tokens = { alice: await hsToken('alice'), bob: await hsToken('bob') }
    const readers: { reader: Reader; sb: Switchboard; token?: string }[] = [
      { reader: 'alice', sb: await res.connected(url, { token: tokens.alice }), token: tokens.alice },
      { reader: 'bob', sb: await res.connected(b.url, { token: tokens.bob }), token: tokens.bob },
      { reader: null, sb: await res.connected(url) },
    ]
    const names = Array.from({ length: RECORDS }, (_, i) => `items/${i.toString(36).padStart(2, '0')}`)
    const scalars = [null, true, false, 0, 1, 2, 3, 5, 2.5, -1, '', 'a', 'b', 'B', 'é', '\uFF5E', '\u{1F600}']
    const randomDoc = (): Doc => {
      const doc: Doc = { owner: pick(['alice', 'bob', 'carol']), hidden: random() < 0.3 }
      if (random() < 0.8) doc.a = pick(scalars)
      if (random() < 0.8) doc.b = pick(['a', 'b', 'c', 'B', 'é'])
      if (random() < 0.5) doc.tags = [pick(scalars), pick(['x', 'y', 1])]
      if (random() < 0.4) doc.n = { x: pick(scalars) }
      if (random() < 0.2) doc.a = { nested: true }
      return doc
    }
    const randomQuery = (): QueryOptions => {
      const paths = ['a', 'b', 'tags', 'n.x', 'tags.0', 'owner']
      const where: [string, never, unknown][] = []
      for (let j = Math.floor(random() * 3); j > 0; j--) {
        const op = pick(['==', '!=', '<', '<=', '>', '>=', 'in', 'not-in', 'array-contains', 'exists'] as const)
        const value =
          op === 'in' || op === 'not-in'
            ? [pick(scalars), pick(scalars)]
            : op === 'exists'
              ? random() < 0.5
              : ['<', '<=', '>', '>='].includes(op)
                ? pick([0, 1, 2.5, 'a', 'b', 'é'])
                : pick(scalars)
        where.push([pick(paths), op as never, value])
      }
      const orderBy: [string, 'asc' | 'desc'][] = []
      for (let j = Math.floor(random() * 3); j > 0; j--) orderBy.push([pick(paths), pick(['asc', 'desc'] as const)])
      const q: QueryOptions = { where, orderBy }
      if (random() < 0.7) q.limit = 1 + Math.floor(random() * 8)
      return q
    }

    // Seed the collection, then open the queries (some shared by readers, some repeated).
    await Promise.all(names.filter(() => random() < 0.7).map((n) => server.records.set(n, randomDoc())))
    const shapes = Array.from({ length: QUERIES_PER_READER }, randomQuery)
    const live: { reader: (typeof readers)[number]; options: QueryOptions; q: LiveQuery }[] = []
    for (const r of readers) {
      for (const options of shapes) {
        const mine = random() < 0.3 ? randomQuery() : options
        live.push({ reader: r, options: mine, q: r.sb.query('items', mine) })
        if (random() < 0.1) live.push({ reader: r, options: mine, q: r.sb.query('items', mine) })
      }
    }
    await Promise.all(live.map((l) => l.q.ready))

    const handles = readers.slice(0, 2).map((r) => names.map((n) => r.sb.record(n)))
    for (let round = 0; round < ROUNDS; round++) {
      const writes: Promise<unknown>[] = []
      for (let k = 1 + Math.floor(random() * 12); k > 0; k--) {
        const name = pick(names)
        const viaClient = random() < 0.3 ? pick(handles)[names.indexOf(name)] : undefined
        const roll = random()
        const write = (): Promise<unknown> => {
          const s = anyServer()
          if (roll < 0.15) return viaClient ? viaClient.delete() : s.records.delete(name)
          if (roll < 0.4) return viaClient ? viaClient.set(randomDoc()) : s.records.set(name, randomDoc())
          if (roll < 0.55) return s.records.set(name, 'hidden', random() < 0.5)
          if (roll < 0.65) return s.records.set(name, 'owner', pick(['alice', 'bob', 'carol']))
          if (roll < 0.85) return s.records.set(name, 'a', pick(scalars))
          return s.records.update(name, { increment: { 'n.x': 1 } })
        }
        // Some writes are refused (e.g. an increment on a string): that is fine, nothing changes.
        writes.push(write().catch(() => undefined))
      }
      if (random() < 0.2) {
        // Churn: a query closes and another opens mid-stream.
        const i = Math.floor(random() * live.length)
        const old = live[i] as (typeof live)[number]
        old.q.close()
        const options = randomQuery()
        live[i] = { reader: old.reader, options, q: old.reader.sb.query('items', options) }
      }
      await Promise.all(writes)
      await Promise.all(live.map((l) => l.q.ready))

      // Quiet point: the truth is what the store holds.
      const stored = new Map<string, { data: Doc; version: number }>()
      for (const n of names) {
        const r = await server.records.get(n)
        if (r) stored.set(n, { data: r.data as Doc, version: r.version })
      }
      const got = (l: (typeof live)[number]) => l.q.rows.map((r) => `${r.name}@${r.version}`)
      try {
        await waitFor(
          () => live.every((l) => got(l).join() === reference(stored, l.options, l.reader.reader).join()),
          `round ${round}: every live query equal to the reference`,
          10_000,
        )
      } catch (err) {
        const bad = live.find((l) => got(l).join() !== reference(stored, l.options, l.reader.reader).join())
        if (!bad) throw err
        const expected = reference(stored, bad.options, bad.reader.reader)
        const differing = [...new Set([...got(bad), ...expected])]
          .filter((r) => !got(bad).includes(r) || !expected.includes(r))
          .map((r) => `${r} ${JSON.stringify(stored.get(r.split('@')[0] as string)?.data)}`)
        throw new Error(
          `round ${round}, seed ${SEED}, reader ${bad.reader.reader}, query ${JSON.stringify(bad.options)}\n` +
            `  live:     ${got(bad).join(' ')}\n  expected: ${expected.join(' ')}\n  ${differing.join('\n  ')}`,
        )
      }
      for (const l of live) {
        for (const row of l.q.rows) expect(row.data, row.name).toEqual(stored.get(row.name)?.data)
      }
      // The one-off query as the same reader, every few rounds (it costs an HTTP request each).
      if (round % 5 === 4 || round === ROUNDS - 1) {
        for (const l of live) {
          const response = await fetch(`${url}/api/query`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(l.reader.token && { authorization: `Bearer ${l.reader.token}` }),
            },
            body: JSON.stringify({ collection: 'items', ...l.options }),
          })
          const body = (await response.json()) as { rows: { name: string; version: number }[] }
          expect(
            body.rows.map((r) => `${r.name}@${r.version}`),
            JSON.stringify(l.options),
          ).toEqual(got(l))
        }
      }
    }
  })
})
