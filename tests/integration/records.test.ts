import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { SwitchboardError } from '@switchboard/client'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { Resources } from '../support/server.js'
import { storageKinds, type StorageKind } from '../support/storages.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

async function failure(promise: Promise<unknown>): Promise<SwitchboardError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!err) throw new Error('expected the operation to fail')
  return err as SwitchboardError
}

describe.each(storageKinds)('records on $name storage', (kind: StorageKind) => {
  async function server(config: SwitchboardConfigInput = {}) {
    const { storage, remove } = await kind.create()
    res.add(null, remove)
    return res.server({ ...config, storage })
  }

  it('a set reaches every subscriber; version goes up by one per write and follows the ack', async () => {
    const { url, server: srv } = await server()
    const [a, b] = await Promise.all([res.connected(url), res.connected(url)])
    const ra = a.record('todos/1')
    const rb = b.record('todos/1')
    await Promise.all([ra.ready, rb.ready])
    expect(ra.exists).toBe(false)
    expect(ra.version).toBe(0)

    const seen: unknown[] = []
    rb.subscribe((d) => seen.push(d))
    expect(await ra.set({ title: 'x', done: false })).toEqual({ version: 1 })
    expect(ra.version).toBe(1)
    expect(ra.data).toEqual({ title: 'x', done: false })
    await waitFor(() => rb.version === 1, 'b to see version 1')
    expect(rb.data).toEqual({ title: 'x', done: false })

    await ra.set('title', 'y')
    await ra.update({ increment: { votes: 2 }, push: { tags: 'a' } })
    await ra.update({ push: { tags: 'b' }, unset: ['done'] })
    await waitFor(() => rb.version === 4, 'b to see version 4')
    expect(rb.data).toEqual({ title: 'y', votes: 2, tags: ['a', 'b'] })
    expect(rb.get('tags.1')).toBe('b')
    expect(seen).toHaveLength(4)
    expect(await srv.records.get('todos/1')).toEqual({ data: { title: 'y', votes: 2, tags: ['a', 'b'] }, version: 4 })
    expect(await b.records.get('todos/1')).toEqual({ data: { title: 'y', votes: 2, tags: ['a', 'b'] }, version: 4 })
    expect(await b.records.get('todos/none')).toBeNull()
  })

  it('a stale ifVersion fails with VERSION_CONFLICT carrying the current data and version, and rolls back', async () => {
    const { url } = await server()
    const [a, b] = await Promise.all([res.connected(url), res.connected(url)])
    const ra = a.record('doc/1')
    const rb = b.record('doc/1')
    await Promise.all([ra.ready, rb.ready])
    await ra.set({ title: 'first' })
    await waitFor(() => rb.version === 1, 'b at version 1')
    await ra.set('title', 'second')

    const errors: SwitchboardError[] = []
    rb.on('error', (e) => errors.push(e))
    const write = rb.set('title', 'stale', { ifVersion: 1 })
    // Applied locally at once...
    expect(rb.get('title')).toBe('stale')
    const err = await failure(write)
    expect(err.code).toBe('VERSION_CONFLICT')
    expect(err.data).toEqual({ version: 2, data: { title: 'second' } })
    // ...and rolled back to the server's state, with an error on the record.
    await waitFor(() => rb.get('title') === 'second', 'rollback to the server state')
    expect(errors.map((e) => e.code)).toEqual(['VERSION_CONFLICT'])
    expect(await rb.set('title', 'fresh', { ifVersion: rb.version })).toEqual({ version: 3 })
  })

  it('20 clients × 10 concurrent increments lose none', async () => {
    const { url, server: srv } = await server()
    const clients = await Promise.all(Array.from({ length: 20 }, () => res.connected(url)))
    const recs = clients.map((c) => c.record('counter/1'))
    await Promise.all(recs.map((r) => r.ready))
    const acks = await Promise.all(
      recs.flatMap((r) => Array.from({ length: 10 }, () => r.update({ increment: { n: 1 } }))),
    )
    expect(new Set(acks.map((a) => a.version)).size).toBe(200)
    expect(await srv.records.get('counter/1')).toEqual({ data: { n: 200 }, version: 200 })
    await waitFor(
      () => recs.every((r) => r.version === 200 && r.get('n') === 200),
      'every client at n = 200, version 200',
    )
  })

  it('concurrent writes to different paths both survive', async () => {
    const { url } = await server()
    const [a, b] = await Promise.all([res.connected(url), res.connected(url)])
    const ra = a.record('profile/1')
    const rb = b.record('profile/1')
    await Promise.all([ra.ready, rb.ready])
    await ra.set({ name: 'ann', address: { city: 'Oslo' } })
    await waitFor(() => rb.version === 1, 'b at version 1')
    // Both written against version 1, neither knowing of the other.
    await Promise.all([ra.set('name', 'Ann'), rb.set('address.city', 'Bergen'), ra.set('address.zip', '5003')])
    const expected = { name: 'Ann', address: { city: 'Bergen', zip: '5003' } }
    await waitFor(() => ra.version === 4 && rb.version === 4, 'both at version 4')
    expect(ra.data).toEqual(expected)
    expect(rb.data).toEqual(expected)
  })

  it('delete notifies subscribers; a re-created record continues the version', async () => {
    const { url, server: srv } = await server()
    const [a, b] = await Promise.all([res.connected(url), res.connected(url)])
    const ra = a.record('tmp/1')
    const rb = b.record('tmp/1')
    await Promise.all([ra.ready, rb.ready])
    await ra.set({ x: 1 })
    await waitFor(() => rb.exists, 'b sees the record')
    const gone = nextEvent<unknown>((l) => rb.subscribe(l), 'b notified of the delete')
    expect(await ra.delete()).toEqual({ version: 2 })
    expect(await gone).toBeUndefined()
    expect(rb.exists).toBe(false)
    expect(rb.version).toBe(2)
    expect(await srv.records.get('tmp/1')).toBeNull()
    expect(await b.records.get('tmp/1')).toBeNull()
    expect(await rb.set({ x: 2 })).toEqual({ version: 3 })
    await waitFor(() => ra.exists && ra.version === 3, 'a sees it re-created at version 3')
    // Deleting what does not exist is not a write.
    await ra.delete()
    expect(await ra.delete()).toEqual({ version: 4 })
  })

  it('__proto__, prototype and constructor are rejected as path segments and as keys', async () => {
    const { url, server: srv } = await server()
    const sb = await res.connected(url)
    const rec = sb.record('safe/1')
    await rec.ready
    await rec.set({ ok: true })
    for (const path of ['__proto__.polluted', 'a.constructor', 'prototype', 'a..b', '']) {
      expect((await failure(rec.set(path, 1))).code).toBe('INVALID_DATA')
    }
    expect((await failure(rec.update({ increment: { '__proto__.x': 1 } }))).code).toBe('INVALID_DATA')
    expect((await failure(rec.update({ unset: ['constructor'] }))).code).toBe('INVALID_DATA')
    expect((await failure(rec.set(JSON.parse('{"__proto__":{"polluted":1}}') as Record<string, unknown>))).code).toBe(
      'INVALID_DATA',
    )
    expect((await failure(rec.set('a', JSON.parse('{"b":{"__proto__":{"x":1}}}')))).code).toBe('INVALID_DATA')
    expect((await failure(srv.records.set('safe/1', 'constructor.x', 1))).code).toBe('INVALID_DATA')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(await srv.records.get('safe/1')).toEqual({ data: { ok: true }, version: 1 })
  })

  it('a 1 MiB document is stored, delivered and read back whole', async () => {
    const { url, server: srv } = await server({ limits: { maxMessageBytes: '2MiB' } })
    const [a, b] = await Promise.all([res.connected(url), res.connected(url)])
    const ra = a.record('big/1')
    const rb = b.record('big/1')
    await Promise.all([ra.ready, rb.ready])
    const doc = { blob: 'x'.repeat(1024 * 1024 - 11) }
    expect(JSON.stringify(doc).length).toBe(1024 * 1024)
    await ra.set(doc)
    await waitFor(() => rb.version === 1, 'b receives the big document')
    expect(rb.data).toEqual(doc)
    expect(await srv.records.get('big/1')).toEqual({ data: doc, version: 1 })
    await ra.set('small', 1)
    expect((await a.records.get('big/1'))?.data).toEqual({ ...doc, small: 1 })
  })

  it('a document may not grow past maxMessageBytes', async () => {
    const { url } = await server({ limits: { maxMessageBytes: '64KiB' } })
    const sb = await res.connected(url)
    const rec = sb.record('grow/1')
    await rec.ready
    await rec.set({ a: 'x'.repeat(40_000) })
    expect((await failure(rec.set('b', 'y'.repeat(40_000)))).code).toBe('TOO_LARGE')
    expect(rec.get('b')).toBeUndefined()
    expect(rec.version).toBe(1)
  })

  it('handles on one name share one copy; discarding the last ends the subscription', async () => {
    const { url, server: srv } = await server()
    const sb = await res.connected(url)
    const h1 = sb.record('shared/1')
    const h2 = sb.record('shared/1')
    await h1.ready
    const p = h1.set({ n: 1 })
    expect(h2.data).toEqual({ n: 1 })
    await p
    const seen: unknown[] = []
    h2.subscribe('n', (v) => seen.push(v))
    h1.discard()
    await srv.records.set('shared/1', 'n', 2)
    await waitFor(() => h2.get('n') === 2, 'h2 still live')
    expect(seen).toEqual([2])
    expect((await failure(h1.set('n', 3))).code).toBe('CLOSED')
    h2.discard()
    await srv.records.set('shared/1', 'n', 3)
    const h3 = sb.record('shared/1')
    await h3.ready
    expect(h3.data).toEqual({ n: 3 })
    expect(h3.version).toBe(3)
  })

  it('server.records writes notify subscribers like client writes', async () => {
    const { url, server: srv } = await server()
    const sb = await res.connected(url)
    const rec = sb.record('app/settings')
    await rec.ready
    expect(await srv.records.set('app/settings', { theme: 'dark', when: new Date(0) })).toEqual({ version: 1 })
    await waitFor(() => rec.version === 1, 'client sees the server write')
    expect(rec.data).toEqual({ theme: 'dark', when: '1970-01-01T00:00:00.000Z' })
    await srv.records.update('app/settings', { increment: { opens: 1 } })
    await srv.records.set('app/settings', 'theme', 'light', { ifVersion: 2 })
    expect((await failure(srv.records.set('app/settings', 'theme', 'x', { ifVersion: 1 }))).code).toBe(
      'VERSION_CONFLICT',
    )
    await waitFor(() => rec.version === 3, 'client at version 3')
    expect(rec.data).toEqual({ theme: 'light', when: '1970-01-01T00:00:00.000Z', opens: 1 })
    await srv.records.delete('app/settings')
    await waitFor(() => !rec.exists, 'client sees the delete')
  })

  it('invalid names and unknown permissions fail the handle, not the connection', async () => {
    const { url } = await server()
    const sb = await res.connected(url)
    const bad = sb.record('bad name!')
    expect((await failure(bad.ready)).code).toBe('INVALID_NAME')
    expect((await failure(bad.set({ a: 1 }))).code).toBe('INVALID_NAME')
    expect((await failure(sb.record('$records/x').ready)).code).toBe('INVALID_NAME')
    const good = sb.record('fine/1')
    await good.ready
    expect(sb.state).toBe('connected')
  })
})

describe('record schemas', () => {
  it('a write that breaks the schema gets INVALID_DATA naming the path; the most specific pattern wins; publishes are checked too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-schemas-'))
    res.add(dir, (d) => rmSync(d, { recursive: true, force: true }))
    const todo = join(dir, 'todo.json')
    const special = join(dir, 'special.json')
    writeFileSync(
      todo,
      JSON.stringify({
        type: 'object',
        properties: { title: { type: 'string' }, done: { type: 'boolean' } },
        required: ['title'],
      }),
    )
    writeFileSync(special, JSON.stringify({ type: 'object', properties: { title: { type: 'number' } } }))
    const { url } = await res.server({ schemas: { 'todos/*': todo, 'todos/special': special, 'chat/*': todo } })
    const sb = await res.connected(url)
    const rec = sb.record('todos/1')
    await rec.ready
    await rec.set({ title: 'ok', done: false })
    const errors: SwitchboardError[] = []
    rec.on('error', (e) => errors.push(e))
    const e1 = await failure(rec.set('title', 5))
    expect(e1.code).toBe('INVALID_DATA')
    expect(e1.message).toContain('/title must be string')
    expect(rec.get('title')).toBe('ok')
    expect((await failure(rec.set('done', 'yes'))).message).toContain('/done must be boolean')
    expect((await failure(rec.update({ unset: ['title'] }))).message).toContain("must have required property 'title'")
    expect(errors).toHaveLength(3)
    expect(rec.version).toBe(1)

    const sp = sb.record('todos/special')
    await sp.ready
    await sp.set({ title: 7 })
    expect((await failure(sp.set({ title: 'text' }))).message).toContain('/title must be number')

    await sb.publish('chat/1', { title: 'hello' })
    const pubErr = await failure(sb.publish('chat/1', { title: 1 }))
    expect(pubErr.code).toBe('INVALID_DATA')
    expect(pubErr.message).toContain('/title must be string')
    await sb.publish('other/1', { anything: true })
  })

  it('an unreadable schema file stops the server from starting', async () => {
    await expect(res.server({ schemas: { 'x/*': '/nonexistent/schema.json' } })).rejects.toThrow(
      /cannot read JSON Schema/,
    )
  })
})
