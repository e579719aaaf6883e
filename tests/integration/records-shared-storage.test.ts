/**
 * Several servers on one PostgreSQL table, as in a cluster: compare-and-set in SQL keeps every
 * write whichever server takes it; with a shared engine (here the in-process memory hub) record changes reach subscribers on every server and no server serves a stale read.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, MemoryHub, type SwitchboardConfigInput } from '@switchboard/server'
import { Resources } from '../support/server.js'
import { storageKinds } from '../support/storages.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

async function postgresStorage(): Promise<NonNullable<SwitchboardConfigInput['storage']>> {
  const postgres = storageKinds.find((k) => k.name === 'postgres')
  if (!postgres) throw new Error('no postgres storage kind')
  const { storage, remove } = await postgres.create()
  res.add(null, remove)
  return storage
}

async function node(storage: SwitchboardConfigInput['storage'], hub?: MemoryHub) {
  const server = createServer(
    { server: { host: '127.0.0.1', port: 0 }, storage, log: { level: 'silent' } },
    hub ? { engine: hub.engine() } : {},
  )
  res.add(server, (s) => s.close())
  const { url } = await server.listen()
  return { server, url }
}

describe('servers sharing PostgreSQL storage', () => {
  it('without a shared engine: concurrent increments through both servers are all kept', async () => {
    const storage = await postgresStorage()
    const [a, b] = await Promise.all([node(storage), node(storage)])
    await a.server.records.set('shared/n', { n: 0 })
    const writes = []
    for (let i = 0; i < 50; i++) {
      writes.push(a.server.records.update('shared/n', { increment: { n: 1 } }))
      writes.push(b.server.records.update('shared/n', { increment: { n: 1 } }))
    }
    const versions = (await Promise.all(writes)).map((w) => w.version)
    expect(new Set(versions).size).toBe(100)
    expect(Math.max(...versions)).toBe(101)
    // Neither has subscribers: reads go to storage and see the other's writes.
    expect(await a.server.records.get('shared/n')).toEqual({ data: { n: 100 }, version: 101 })
    expect(await b.server.records.get('shared/n')).toEqual({ data: { n: 100 }, version: 101 })
  })

  it('with a shared engine: subscribers on every server converge and reads are never stale', async () => {
    const storage = await postgresStorage()
    const hub = new MemoryHub()
    const [a, b] = await Promise.all([node(storage, hub), node(storage, hub)])
    const [ca, cb] = await Promise.all([res.connected(a.url), res.connected(b.url)])
    await a.server.records.set('shared/n', { n: 0 })
    const ra = ca.record('shared/n')
    const rb = cb.record('shared/n')
    await Promise.all([ra.ready, rb.ready])
    const writes = []
    for (let i = 0; i < 50; i++) {
      writes.push(ra.update({ increment: { n: 1 } }), rb.update({ increment: { n: 1 } }))
      writes.push(a.server.records.update('shared/n', { increment: { n: 1 } }))
      writes.push(b.server.records.update('shared/n', { increment: { n: 1 } }))
    }
    const versions = (await Promise.all(writes)).map((w) => w.version)
    expect(new Set(versions).size).toBe(200)
    await waitFor(() => ra.version === 201 && rb.version === 201, 'subscribers on both servers at version 201')
    expect(ra.data).toEqual({ n: 200 })
    expect(rb.data).toEqual({ n: 200 })
    expect(await a.server.records.get('shared/n')).toEqual({ data: { n: 200 }, version: 201 })
    expect(await b.server.records.get('shared/n')).toEqual({ data: { n: 200 }, version: 201 })

    // Written through A only, read through B (which wrote it before): fresh, and conflicts are honest.
    await b.server.records.set('shared/other', { who: 'b' })
    await a.server.records.set('shared/other', 'who', 'a')
    expect(await b.server.records.get('shared/other')).toEqual({ data: { who: 'a' }, version: 2 })
    expect(await cb.records.get('shared/other')).toEqual({ data: { who: 'a' }, version: 2 })
    await expect(b.server.records.set('shared/other', 'who', 'stale', { ifVersion: 1 })).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
      data: { version: 2, data: { who: 'a' } },
    })
  })
})
