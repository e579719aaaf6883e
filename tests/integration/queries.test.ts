/**
 * Live queries through the public surface: `sb.query` on real servers, writes through clients
 * and `server.records`, `POST /api/query`, permission rules, reconnects and a two-node cluster.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { LiveQuery, QueryChange, QueryOptions, Switchboard } from '@switchboard/client'
import { MemoryRecordStore, StorageError, type StoredRow, type StoreQuery } from '@switchboard/storage'
import { MemoryHub, type SwitchboardConfigInput, type SwitchboardServer } from '@switchboard/server'
import { hsToken, SECRET } from '../support/jwt.js'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-queries-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const names = (q: LiveQuery) => q.rows.map((r) => r.name)

/** Waits until the live query's rows equal the one-off query's (the SPEC's convergence guarantee). */
async function converged(server: SwitchboardServer, q: LiveQuery, collection: string, options: QueryOptions) {
  let expected: string[] = []
  await waitFor(
    async () => {
      expected = (await server.records.query(collection, options)).map((r) => `${r.name}@${r.version}`)
      return q.rows.map((r) => `${r.name}@${r.version}`).join() === expected.join()
    },
    `live rows ${JSON.stringify(options)} to equal the one-off query`,
  )
  return expected
}

async function seed(server: SwitchboardServer, docs: Record<string, unknown>) {
  for (const [name, data] of Object.entries(docs)) await server.records.set(name, data as Record<string, unknown>)
}

describe('live queries', () => {
  it('each operator selects what the one-off query selects, and follows writes', async () => {
    const { url, server } = await res.server()
    await seed(server, {
      't/a': { n: 1, s: 'x', tags: ['red', 'blue'], done: false, nested: { k: 'v' } },
      't/b': { n: 2, s: 'y', tags: ['blue'], done: true },
      't/c': { n: 3, s: 'z', tags: [], done: false, extra: null },
      't/d': { n: '3', s: 'x' },
      'u/e': { n: 1 },
    })
    const sb = await res.connected(url)
    const cases: [QueryOptions['where'], string[]][] = [
      [[['n', '==', 1]], ['t/a']],
      [[['n', '!=', 1]], ['t/b', 't/c', 't/d']],
      [[['n', '<', 3]], ['t/a', 't/b']],
      [[['n', '<=', 3]], ['t/a', 't/b', 't/c']],
      [[['n', '>', 1]], ['t/b', 't/c']],
      [[['n', '>=', 2]], ['t/b', 't/c']],
      [[['s', 'in', ['x', 'z']]], ['t/a', 't/c', 't/d']],
      [[['s', 'not-in', ['x']]], ['t/b', 't/c']],
      [[['tags', 'array-contains', 'blue']], ['t/a', 't/b']],
      [[['extra', 'exists', true]], ['t/c']],
      [[['done', 'exists', false]], ['t/d']],
      [[['nested.k', '==', 'v']], ['t/a']],
      [
        [
          ['done', '==', false],
          ['n', '>', 1],
        ],
        ['t/c'],
      ],
    ]
    const queries = cases.map(([where]) => sb.query('t', { where }))
    await Promise.all(queries.map((q) => q.ready))
    cases.forEach(([where, expected], i) =>
      expect(names(queries[i] as LiveQuery), JSON.stringify(where)).toEqual(expected),
    )
    for (const [i, [where]] of cases.entries()) await converged(server, queries[i] as LiveQuery, 't', { where })

    // Writes move rows in and out of every query; each ends equal to the one-off query.
    await server.records.set('t/e', { n: 2, s: 'z', tags: ['blue'], extra: 1, done: false })
    await server.records.update('t/a', { unset: ['nested'], increment: { n: 5 } })
    await server.records.delete('t/b')
    await server.records.set('t/d', 'n', 3)
    for (const [i, [where]] of cases.entries()) await converged(server, queries[i] as LiveQuery, 't', { where })
    expect(names(queries[0] as LiveQuery)).toEqual([])
    expect(names(queries[8] as LiveQuery)).toEqual(['t/a', 't/e'])
  })

  it('orders by two keys with ties by name, and reports changes as added/removed/changed names', async () => {
    const { url, server } = await res.server()
    await seed(server, {
      'p/b': { team: 'red', score: 5 },
      'p/a': { team: 'red', score: 5 },
      'p/c': { team: 'blue', score: 9 },
      'p/d': { team: 'red', score: 7 },
      'p/e': { team: 'blue', score: 9 },
    })
    const sb = await res.connected(url)
    const asc = sb.query('p', {
      orderBy: [
        ['team', 'asc'],
        ['score', 'asc'],
      ],
    })
    const desc = sb.query('p', {
      orderBy: [
        ['team', 'asc'],
        ['score', 'desc'],
      ],
    })
    await Promise.all([asc.ready, desc.ready])
    expect(names(asc)).toEqual(['p/c', 'p/e', 'p/a', 'p/b', 'p/d'])
    // Ties follow the last key's direction: descending names within equal scores.
    expect(names(desc)).toEqual(['p/e', 'p/c', 'p/d', 'p/b', 'p/a'])

    const changes: QueryChange[] = []
    const seen: string[][] = []
    asc.on('change', (c) => changes.push(c))
    asc.subscribe((rows) => seen.push(rows.map((r) => r.name)))
    await server.records.set('p/a', 'score', 8)
    await waitFor(() => changes.length === 1, 'one change')
    expect(changes[0]).toEqual({ added: [], removed: [], changed: ['p/a'] })
    expect(seen[0]).toEqual(['p/c', 'p/e', 'p/b', 'p/d', 'p/a'])
    await server.records.delete('p/c')
    await server.records.set('p/f', { team: 'blue', score: 1 })
    await waitFor(() => names(asc).join() === 'p/f,p/e,p/b,p/d,p/a', 'the new order')
    expect(changes.flatMap((c) => c.removed)).toEqual(['p/c'])
    expect(changes.flatMap((c) => c.added)).toEqual(['p/f'])
    await converged(server, desc, 'p', {
      orderBy: [
        ['team', 'asc'],
        ['score', 'desc'],
      ],
    })
  })

  it('a limited window slides on update and delete (rows come back from storage)', async () => {
    const { url, server } = await res.server()
    // More rows than the window keeps in memory (limit + slack), so refills must read storage.
    const docs: Record<string, unknown> = {}
    for (let i = 0; i < 40; i++) docs[`w/${String(i).padStart(2, '0')}`] = { rank: i, open: true }
    await seed(server, docs)
    const sb = await res.connected(url)
    const options: QueryOptions = { where: [['open', '==', true]], orderBy: [['rank', 'asc']], limit: 3 }
    const q = sb.query('w', options)
    await q.ready
    expect(names(q)).toEqual(['w/00', 'w/01', 'w/02'])

    await server.records.delete('w/00')
    await waitFor(() => names(q).join() === 'w/01,w/02,w/03', 'w/03 to slide in after a delete')
    await server.records.set('w/01', 'open', false)
    await waitFor(() => names(q).join() === 'w/02,w/03,w/04', 'w/04 to slide in after an update')
    await server.records.set('w/02', 'rank', 100)
    await waitFor(() => names(q).join() === 'w/03,w/04,w/05', 'w/02 to move to the end')
    // Drain past the slack: every removed row is replaced, from memory or from storage.
    for (let i = 3; i < 30; i++) await server.records.delete(`w/${String(i).padStart(2, '0')}`)
    await waitFor(() => names(q).join() === 'w/30,w/31,w/32', 'the window after 27 deletes')
    await server.records.set('w/05', { rank: -1, open: true })
    await waitFor(() => names(q).join() === 'w/05,w/30,w/31', 'a new first row pushes the last out')
    await converged(server, q, 'w', options)
  })

  it('the naive strategy (the benchmark baseline: re-run on every write) gives the same rows', async () => {
    const { url, server } = await res.server({}, { queryStrategy: 'rerun' })
    const docs: Record<string, unknown> = {}
    for (let i = 0; i < 12; i++) docs[`n/${String(i).padStart(2, '0')}`] = { rank: i, group: i % 2 }
    await seed(server, docs)
    const sb = await res.connected(url)
    const options: QueryOptions = { where: [['group', '==', 0]], orderBy: [['rank', 'desc']], limit: 3 }
    const q = sb.query('n', options)
    await q.ready
    expect(names(q)).toEqual(['n/10', 'n/08', 'n/06'])
    await server.records.delete('n/10')
    await server.records.set('n/03', { rank: 30, group: 0 })
    await waitFor(() => names(q).join() === 'n/03,n/08,n/06', 'the re-run result')
    await converged(server, q, 'n', options)
  })

  it('invalid queries are refused with INVALID_DATA naming the bad part; limits hold', async () => {
    const { url } = await res.server({
      limits: { maxQueryResults: 50, maxQueriesPerConnection: 2, maxQueryClauses: 3 },
    })
    const sb = await res.connected(url)
    const refused = async (q: LiveQuery) => {
      const e = await q.ready.then(
        () => undefined,
        (err: { code: string; message: string }) => err,
      )
      expect(q.error).toBeDefined()
      return e
    }
    expect(await refused(sb.query('t', { where: [['a', 'like', 1]] as never }))).toMatchObject({
      code: 'INVALID_DATA',
      message: expect.stringContaining('where[0]: operator "like"'),
    })
    expect(await refused(sb.query('t', { where: [['__proto__.polluted', '==', 1]] }))).toMatchObject({
      code: 'INVALID_DATA',
      message: expect.stringContaining('where[0]'),
    })
    expect(await refused(sb.query('t', { orderBy: [['a.constructor', 'asc']] }))).toMatchObject({
      code: 'INVALID_DATA',
      message: expect.stringContaining('orderBy[0]'),
    })
    expect(await refused(sb.query('bad//name'))).toMatchObject({ code: 'INVALID_NAME' })
    // Limits come from the server's config: the client cannot know them.
    expect(await refused(sb.query('t', { limit: 51 }))).toMatchObject({
      code: 'INVALID_DATA',
      message: expect.stringContaining('limits.maxQueryResults'),
    })
    expect(
      await refused(
        sb.query('t', {
          where: [
            ['a', '==', 1],
            ['b', '==', 1],
          ],
          orderBy: [
            ['a', 'asc'],
            ['b', 'asc'],
          ],
        }),
      ),
    ).toMatchObject({ code: 'INVALID_DATA', message: expect.stringContaining('limits.maxQueryClauses') })
    const [one, two] = [sb.query('t'), sb.query('u')]
    await Promise.all([one.ready, two.ready])
    expect(await refused(sb.query('v'))).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS' })
    one.close()
    await expect(sb.query('v').ready).resolves.toBeUndefined()

    // The same checks on the wire, for clients that skip the local ones.
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    raw.send({ t: 'qsub', id: 1, q: 1, c: 't', w: [['constructor', '==', 1]] })
    expect(await raw.waitFor((m) => m.id === 1)).toMatchObject({ t: 'err', code: 'INVALID_DATA' })
    raw.send({ t: 'qsub', id: 2, q: 2, c: 't', w: [['a', 'in', [{ o: 1 }]]] })
    expect(await raw.waitFor((m) => m.id === 2)).toMatchObject({ t: 'err', code: 'INVALID_DATA' })
    raw.send({ t: 'qsub', id: 3, q: 3, c: 't' })
    expect(await raw.waitFor((m) => m.id === 3)).toMatchObject({ t: 'ok', r: { rows: [] } })
    raw.send({ t: 'qsub', id: 4, q: 3, c: 't' })
    expect(await raw.waitFor((m) => m.id === 4)).toMatchObject({ t: 'err', code: 'ALREADY_SUBSCRIBED' })
  })

  it('POST /api/query answers what q.rows holds, under the same rules', async () => {
    const { url, server } = await res.server({ auth: { apiKeys: ['backend-key-0123456789'] } })
    await seed(server, {
      'todos/1': { done: false, created: 3, title: 'c' },
      'todos/2': { done: true, created: 2, title: 'b' },
      'todos/3': { done: false, created: 1, title: 'a' },
    })
    const sb = await res.connected(url)
    const options: QueryOptions = { where: [['done', '==', false]], orderBy: [['created', 'desc']], limit: 10 }
    const q = sb.query('todos', options)
    await q.ready
    const post = async (body: unknown, key = 'backend-key-0123456789') => {
      const r = await fetch(`${url}/api/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      })
      return {
        status: r.status,
        body: (await r.json()) as { rows?: unknown; error?: { code: string; message: string } },
      }
    }
    const answer = await post({ collection: 'todos', ...options })
    expect(answer).toEqual({ status: 200, body: { rows: q.rows } })
    expect(q.rows).toEqual([
      { name: 'todos/1', version: 1, data: { done: false, created: 3, title: 'c' } },
      { name: 'todos/3', version: 1, data: { done: false, created: 1, title: 'a' } },
    ])
    const bad = await post({ collection: 'todos', where: [['x', '~', 1]] })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ code: 'INVALID_DATA', message: expect.stringContaining('where[0]') })
    expect((await post({ collection: 'todos' }, 'wrong')).status).toBe(401)
  })

  it('rows a user may not read are never in its rows, and leave when a write makes them unreadable', async () => {
    const rules = join(dir, 'rules-read.yaml')
    writeFileSync(
      rules,
      `records:
  'notes/*': { read: 'old.public == true || (user != null && old.owner == user.id)', write: 'true', delete: 'true' }
`,
    )
    const config: SwitchboardConfigInput = { auth: { jwt: { secret: SECRET } }, permissions: rules }
    const { url, server } = await res.server(config)
    await seed(server, {
      'notes/1': { owner: 'alice', public: false, at: 1 },
      'notes/2': { owner: 'bob', public: false, at: 2 },
      'notes/3': { owner: 'carol', public: true, at: 3 },
      'notes/4': { owner: 'alice', public: true, at: 4 },
    })
    const alice = await res.connected(url, { token: await hsToken('alice') })
    const bob = await res.connected(url, { token: await hsToken('bob') })
    const options: QueryOptions = { orderBy: [['at', 'asc']] }
    const qa = alice.query('notes', options)
    const qb = bob.query('notes', options)
    const qb2 = bob.query('notes', { ...options, limit: 1 })
    await Promise.all([qa.ready, qb.ready, qb2.ready])
    expect(names(qa)).toEqual(['notes/1', 'notes/3', 'notes/4'])
    expect(names(qb)).toEqual(['notes/2', 'notes/3', 'notes/4'])
    expect(names(qb2)).toEqual(['notes/2'])

    // Made private: leaves bob's rows, stays in alice's (she owns it).
    await server.records.set('notes/4', 'public', false)
    await waitFor(() => names(qb).join() === 'notes/2,notes/3', 'notes/4 to leave bob’s rows')
    expect(names(qa)).toEqual(['notes/1', 'notes/3', 'notes/4'])
    // Given to bob: leaves alice's, enters bob's, and his limited window slides to it.
    await server.records.set('notes/1', 'owner', 'bob')
    await waitFor(() => names(qb).join() === 'notes/1,notes/2,notes/3', 'notes/1 to enter bob’s rows')
    await waitFor(() => names(qa).join() === 'notes/3,notes/4', 'notes/1 to leave alice’s rows')
    await waitFor(() => names(qb2).join() === 'notes/1', 'bob’s first row')
    // Bob's client never received a row he may not read.
    expect(qb.rows.every((r) => r.data.owner === 'bob' || r.data.public === true)).toBe(true)

    const post = async (token: string) =>
      (await (
        await fetch(`${url}/api/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ collection: 'notes', orderBy: [['at', 'asc']] }),
        })
      ).json()) as { rows: { name: string }[] }
    expect((await post(await hsToken('alice'))).rows.map((r) => r.name)).toEqual(names(qa))
    expect((await post(await hsToken('bob'))).rows.map((r) => r.name)).toEqual(names(qb))

    // A collection no read rule covers is refused outright.
    await expect(alice.query('secrets').ready).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
  })

  it('a reconnecting client gets the writes it missed as one change, and keeps following', async () => {
    const { port, server } = await res.server()
    await seed(server, { 'r/1': { v: 1 }, 'r/2': { v: 2 }, 'r/3': { v: 3 } })
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const sb = await res.connected(proxy.url)
    const options: QueryOptions = { where: [['v', '>', 1]], orderBy: [['v', 'desc']] }
    const q = sb.query('r', options)
    await q.ready
    expect(names(q)).toEqual(['r/3', 'r/2'])
    const changes: QueryChange[] = []
    q.on('change', (c) => changes.push(c))

    proxy.down()
    await waitFor(() => sb.state === 'reconnecting', 'the client to notice the cut')
    await server.records.set('r/2', 'v', 20)
    await server.records.delete('r/3')
    await server.records.set('r/4', { v: 4 })
    await server.records.set('r/1', 'v', 0)
    proxy.up()
    await waitFor(() => names(q).join() === 'r/2,r/4', 'the rows after the reconnect')
    expect(changes).toEqual([{ added: ['r/4'], removed: ['r/3'], changed: ['r/2'] }])
    expect(q.rows[0]).toEqual({ name: 'r/2', version: 2, data: { v: 20 } })
    await server.records.set('r/5', { v: 5 })
    await converged(server, q, 'r', options)
  })

  it('queries opened while offline are sent once connected', async () => {
    const { url, server } = await res.server()
    await seed(server, { 'o/1': { v: 1 } })
    const sb: Switchboard = res.client(url)
    const q = sb.query('o')
    await sb.connect()
    await q.ready
    expect(names(q)).toEqual(['o/1'])
  })

  it('changes written on one node update queries on another (shared storage, shared engine)', async () => {
    const hub = new MemoryHub()
    const store = new MemoryRecordStore()
    const a = await res.server({}, { engine: hub.engine(), store })
    const b = await res.server({}, { engine: hub.engine(), store })
    await a.server.records.set('c/1', { v: 1 })
    const onB = await res.connected(b.url)
    const onA = await res.connected(a.url)
    const options: QueryOptions = { orderBy: [['v', 'asc']], limit: 2 }
    const qb = onB.query('c', options)
    const qa = onA.query('c', options)
    await Promise.all([qa.ready, qb.ready])
    const writer = onA.record('c/2')
    await writer.set({ v: 2 })
    await a.server.records.set('c/0', { v: 0 })
    await b.server.records.set('c/1', 'v', 10)
    await waitFor(() => names(qb).join() === 'c/0,c/2', 'node B to see node A’s writes')
    await waitFor(() => names(qa).join() === 'c/0,c/2', 'node A to see node B’s writes')
    await converged(b.server, qb, 'c', options)
    await converged(a.server, qa, 'c', options)
  })

  it('declared indexes are created at start and change no answer (SQLite)', async () => {
    const path = join(mkdtempSync(join(dir, 'idx-')), 'records.db')
    const { url, server } = await res.server({
      storage: { type: 'sqlite', path },
      collections: { todos: { indexes: [['done', 'created']] } },
    })
    await seed(server, {
      'todos/1': { done: false, created: 2 },
      'todos/2': { done: false, created: 1 },
      'todos/3': { done: true, created: 3 },
    })
    const sb = await res.connected(url)
    const options: QueryOptions = { where: [['done', '==', false]], orderBy: [['created', 'desc']] }
    const q = sb.query('todos', options)
    await q.ready
    expect(names(q)).toEqual(['todos/1', 'todos/2'])
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(path, { readonly: true })
    const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'records_q_%'`).all()
    db.close()
    expect(indexes).toHaveLength(1)
  })
})

/** A real memory store whose queries can be made to fail (fault injection). */
class FlakyStore extends MemoryRecordStore {
  failing = false
  override async query(q: StoreQuery): Promise<StoredRow[]> {
    if (this.failing) throw new StorageError('UNAVAILABLE', 'storage is down')
    return super.query(q)
  }
}

describe('live queries when storage fails', () => {
  it('a query whose refill cannot read storage ends with UNAVAILABLE and can be opened again', async () => {
    const store = new FlakyStore()
    const { url, server } = await res.server({}, { store })
    const docs: Record<string, unknown> = {}
    for (let i = 0; i < 20; i++) docs[`f/${String(i).padStart(2, '0')}`] = { i }
    await seed(server, docs)
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    raw.send({ t: 'qsub', id: 1, q: 1, c: 'f', o: [['i', 'asc']], l: 1 })
    expect(await raw.waitFor((m) => m.id === 1)).toMatchObject({ t: 'ok', r: { rows: [['f/00', 1, { i: 0 }]] } })
    store.failing = true
    // The window holds the first 9 rows (1 visible + 8 slack): deleting them needs storage.
    for (let i = 0; i < 9; i++) await server.records.delete(`f/0${i}`)
    expect(await raw.waitFor((m) => m.t === 'qend')).toMatchObject({ t: 'qend', q: 1, code: 'UNAVAILABLE' })
    store.failing = false
    raw.send({ t: 'qsub', id: 2, q: 1, c: 'f', o: [['i', 'asc']], l: 1 })
    expect(await raw.waitFor((m) => m.id === 2)).toMatchObject({ t: 'ok', r: { rows: [['f/09', 1, { i: 9 }]] } })
  })
})

describe('live queries and token refresh', () => {
  it('a refresh that changes what the reader may read re-runs its queries as one change', async () => {
    const rules = join(dir, 'rules-staff.yaml')
    writeFileSync(rules, `records:\n  'memo/*': { read: 'old.level <= user.level', write: 'true' }\n`)
    const { url, server } = await res.server({ auth: { jwt: { secret: SECRET } }, permissions: rules })
    await seed(server, { 'memo/a': { level: 1 }, 'memo/b': { level: 2 }, 'memo/c': { level: 3 } })
    const raw = res.add(await RawClient.open(url, { token: await hsToken('u', { level: 2 }) }), (c) => c.close())
    raw.send({ t: 'qsub', id: 1, q: 7, c: 'memo' })
    expect(await raw.waitFor((m) => m.id === 1)).toMatchObject({
      t: 'ok',
      r: {
        rows: [
          ['memo/a', 1, { level: 1 }],
          ['memo/b', 1, { level: 2 }],
        ],
      },
    })
    raw.send({ t: 'refresh', id: 2, token: await hsToken('u', { level: 3 }) })
    expect(await raw.waitFor((m) => m.t === 'qchg')).toEqual({
      t: 'qchg',
      q: 7,
      all: true,
      up: [
        ['memo/a', 1, { level: 1 }],
        ['memo/b', 1, { level: 2 }],
        ['memo/c', 1, { level: 3 }],
      ],
    })
    // The query follows writes under the new claims.
    await server.records.set('memo/d', { level: 3 })
    expect(await raw.waitFor((m) => m.t === 'qchg' && m.all === undefined)).toEqual({
      t: 'qchg',
      q: 7,
      up: [['memo/d', 1, { level: 3 }]],
    })
  })
})
