import { afterEach, describe, expect, it } from 'vitest'
import type { SwitchboardError } from '@switchboard/client'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { storageKinds, type StorageKind } from '../support/storages.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

describe.each(storageKinds)('records across disconnects on $name storage', (kind: StorageKind) => {
  async function server(config: SwitchboardConfigInput = {}) {
    const { storage, remove } = await kind.create()
    res.add(null, remove)
    return res.server({ ...config, storage })
  }
  const proxied = async (port: number) => res.add(await new TcpProxy(port).start(), (p) => p.close())

  it('a client that was away resyncs every open record by version', async () => {
    const { url, port } = await server()
    const proxy = await proxied(port)
    const writer = await res.connected(url)
    const reader = await res.connected(proxy.url)
    const names = ['r/changed', 'r/same', 'r/deleted', 'r/created']
    const w = names.map((n) => writer.record(n))
    const r = names.map((n) => reader.record(n))
    await Promise.all([...w, ...r].map((h) => h.ready))
    await Promise.all([w[0]?.set({ v: 1 }), w[1]?.set({ v: 1 }), w[2]?.set({ v: 1 })])
    await waitFor(() => r.slice(0, 3).every((h) => h.version === 1), 'reader has the first versions')

    const states: string[] = []
    reader.on('state', (s) => states.push(s))
    proxy.down()
    await waitFor(() => states.includes('reconnecting'), 'the reader to notice the cut')
    await w[0]?.update({ increment: { v: 5 } })
    await w[2]?.delete()
    await w[3]?.set({ fresh: true })
    proxy.up()
    await waitFor(() => reader.state === 'connected', 'reader back')
    await waitFor(
      () => r[0]?.version === 2 && r[2]?.version === 2 && r[3]?.version === 1,
      'reader caught up with what changed while it was away',
    )
    expect(r.map((h) => h.data)).toEqual([{ v: 6 }, { v: 1 }, undefined, { fresh: true }])
    expect(r.map((h) => h.version)).toEqual([2, 1, 2, 1])
    // Live again afterwards.
    await w[1]?.set('v', 2)
    await waitFor(() => r[1]?.get('v') === 2, 'live change after the resync')
  })

  it('writes made while offline apply locally at once and replay in order after reconnect', async () => {
    const { port, server: srv } = await server()
    const proxy = await proxied(port)
    const sb = await res.connected(proxy.url)
    const rec = sb.record('offline/1')
    await rec.ready
    await rec.set({ list: [], n: 0 })
    const states: string[] = []
    sb.on('state', (s) => states.push(s))
    proxy.down()
    await waitFor(() => states.includes('reconnecting'), 'the client to notice the cut')

    const acks = [
      rec.update({ push: { list: 'a' }, increment: { n: 1 } }),
      rec.set('title', 'offline'),
      rec.update({ push: { list: 'b' }, increment: { n: 1 } }),
      rec.update({ unset: ['title'] }),
      rec.update({ push: { list: 'c' }, increment: { n: 1 } }),
    ]
    expect(rec.data).toEqual({ list: ['a', 'b', 'c'], n: 3 })
    proxy.up()
    expect((await Promise.all(acks)).map((a) => a.version)).toEqual([2, 3, 4, 5, 6])
    expect(await srv.records.get('offline/1')).toEqual({ data: { list: ['a', 'b', 'c'], n: 3 }, version: 6 })
    expect(rec.version).toBe(6)
    expect(rec.data).toEqual({ list: ['a', 'b', 'c'], n: 3 })
  })

  it('an offline write that the server then refuses is rolled back with an error on the record', async () => {
    const { port, server: srv } = await server()
    const proxy = await proxied(port)
    const sb = await res.connected(proxy.url)
    const rec = sb.record('offline/2')
    await rec.ready
    await rec.set({ title: 'v1' })
    proxy.down()
    await waitFor(() => sb.state === 'reconnecting', 'disconnected')
    await srv.records.set('offline/2', 'title', 'changed on the server')
    const errors: SwitchboardError[] = []
    rec.on('error', (e) => errors.push(e))
    const stale = rec.set('title', 'mine', { ifVersion: 1 })
    expect(rec.get('title')).toBe('mine')
    proxy.up()
    const err = await stale.then(
      () => undefined,
      (e: SwitchboardError) => e,
    )
    expect(err?.code).toBe('VERSION_CONFLICT')
    await waitFor(() => rec.get('title') === 'changed on the server', 'rollback to the server state')
    expect(errors.map((e) => e.code)).toEqual(['VERSION_CONFLICT'])
    expect(rec.version).toBe(2)
  })

  it('increments in flight when the connection is cut are applied exactly once', async () => {
    // The pump below outruns the default per-connection message rate; that limit is not under test.
    const { url, port, server: srv } = await server({ limits: { messagesPerSecond: 100_000 } })
    const proxy = await proxied(port)
    const sb = await res.connected(proxy.url)
    const observer = await res.connected(url)
    const rec = sb.record('flight/1')
    const seen = observer.record('flight/1')
    await Promise.all([rec.ready, seen.ready])
    let issued = 0
    let acked = 0
    const acks: Promise<{ version: number }>[] = []
    let stop = false
    const pump = (async () => {
      while (!stop && issued < 3000) {
        // Keep many writes in flight at once, so the cut catches some committed but unacknowledged
        // (at most 300: a transport that takes a while to notice the drop must not overflow the
        // offline queue when they are resent, whose bound is not under test here).
        for (let i = 0; i < 20 && issued - acked < 300; i++) {
          issued++
          acks.push(rec.update({ increment: { n: 1 } }).finally(() => acked++))
        }
        await new Promise((r) => setTimeout(r, 2))
      }
    })()
    await waitFor(() => (seen.get('n') as number) > 100, 'some increments committed')
    const states: string[] = []
    sb.on('state', (s) => states.push(s))
    // Down, not just cut: a long-polling client rides out a cut on the same session (it retries
    // the poll), and this test is about writes in flight when a session is lost.
    proxy.down()
    await waitFor(() => states.includes('reconnecting'), 'the drop noticed', 15_000)
    proxy.up()
    await waitFor(() => sb.state === 'connected', 'reconnected', 15_000)
    await waitFor(
      () => issued > (seen.get('n') as number) + 100 || issued >= 3000,
      'more increments after the reconnect',
    )
    stop = true
    await pump
    const versions = (await Promise.all(acks)).map((a) => a.version)
    expect(new Set(versions).size).toBe(issued)
    const stored = await srv.records.get('flight/1')
    expect(stored?.data).toEqual({ n: issued })
    expect(stored?.version).toBe(issued)
    await waitFor(() => rec.version === issued && seen.version === issued, 'both clients at the final version')
    expect(rec.data).toEqual({ n: issued })
    expect(seen.data).toEqual({ n: issued })
  })
})

describe('record write ids', () => {
  it('a write resent with the same id (after its ack was lost) is applied once', async () => {
    const { url } = await res.server()
    const first = await RawClient.open(url)
    first.send({ t: 'rupd', id: 1, n: 'dedupe/1', ops: { increment: { n: 1 } }, w: 'client-x.1' })
    expect((await first.waitFor((m) => m.id === 1)).r).toEqual({ v: 1 })
    first.close()
    const again = await RawClient.open(url)
    try {
      again.send({ t: 'rsub', id: 1, n: 'dedupe/1', v: 0, w: ['client-x.1', 'client-x.2'] })
      expect((await again.waitFor((m) => m.id === 1)).r).toEqual({ v: 1, d: { n: 1 }, w: ['client-x.1'] })
      again.send({ t: 'rupd', id: 2, n: 'dedupe/1', ops: { increment: { n: 1 } }, w: 'client-x.1' })
      expect((await again.waitFor((m) => m.id === 2)).r).toEqual({ v: 1 })
      again.send({ t: 'rupd', id: 3, n: 'dedupe/1', ops: { increment: { n: 1 } }, w: 'client-x.2' })
      expect((await again.waitFor((m) => m.id === 3)).r).toEqual({ v: 2 })
      again.send({ t: 'rget', id: 4, n: 'dedupe/1' })
      expect((await again.waitFor((m) => m.id === 4)).r).toEqual({ v: 2, d: { n: 2 } })
    } finally {
      again.close()
    }
  })
})
