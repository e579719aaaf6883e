/**
 * Seeded randomised convergence: clients behind cutting proxies do random path sets, atomic
 * updates, deletes and conditional writes, without waiting for each other, while their
 * connections are cut and restored. At the end every client and the storage agree on data and
 * version, and the versions acknowledged for each record are exactly 1..final (each committed
 * write moved the version by one; none was lost or applied twice).
 *
 * The seed is printed; replay a failure's operation sequence with
 *   SEED=<seed> npx vitest run tests/integration/records-convergence
 * (network timing still varies between runs).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RecordHandle, Switchboard } from '@switchboard/client'
import { Resources } from '../support/server.js'
import { storageKinds, type StorageKind } from '../support/storages.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'
import { seeded } from '../support/seeded.js'

const SEED = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31))
const CLIENTS = 6
const RECORDS = ['conv/a', 'conv/b', 'conv/c']
const STEPS = 1200

const res = new Resources()
afterEach(() => res.cleanup())

interface Peer {
  sb: Switchboard
  proxy: TcpProxy
  recs: RecordHandle[]
  down: boolean
}

describe.each(storageKinds)('records converge on $name storage', (kind: StorageKind) => {
  it(`random writes, cuts and reconnects converge (seed ${SEED})`, async () => {
    console.log(
      `records convergence (${kind.name}) seed: ${SEED}  — replay: SEED=${SEED} npx vitest run tests/integration/records-convergence`,
    )
    const random = seeded(SEED)
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
    const { storage, remove } = await kind.create()
    res.add(null, remove)
    // Clients fire writes without waiting; the per-connection message rate limit is not under test.
    const { url, port, server } = await res.server({ storage, limits: { messagesPerSecond: 100_000 } })

    const peers: Peer[] = []
    for (let i = 0; i < CLIENTS; i++) {
      const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
      const sb = await res.connected(proxy.url, { offlineQueueLimit: 10_000 })
      const recs = RECORDS.map((n) => sb.record(n))
      peers.push({ sb, proxy, recs, down: false })
    }
    await Promise.all(peers.flatMap((p) => p.recs.map((r) => r.ready)))

    const writes: Promise<{ version: number }>[] = []
    const acked = new Map<string, Set<number>>(RECORDS.map((n) => [n, new Set()]))
    const refused = new Map<string, number>()
    const track = (name: string, p: Promise<{ version: number }>) => {
      writes.push(
        p.then(
          (r) => {
            // Deleting a record that never existed is a documented no-op acknowledged with
            // version 0; every committed write has a version from 1 up.
            if (r.version > 0) acked.get(name)?.add(r.version)
            return r
          },
          (e: { code: string }) => {
            refused.set(e.code, (refused.get(e.code) ?? 0) + 1)
            return { version: -1 }
          },
        ),
      )
    }

    for (let step = 0; step < STEPS; step++) {
      const peer = pick(peers)
      const i = Math.floor(random() * RECORDS.length)
      const rec = peer.recs[i] as RecordHandle
      const name = RECORDS[i] as string
      const r = random()
      if (r < 0.05) {
        // Cut: either a blip (reconnects at once) or down for a while.
        if (random() < 0.5) peer.proxy.cut()
        else {
          peer.proxy.down()
          peer.down = true
        }
      } else if (r < 0.12) {
        if (peer.down) {
          peer.proxy.up()
          peer.down = false
        }
      } else if (r < 0.35) {
        track(name, rec.set(pick(['s.a', 's.b', 's.c.d', 'title']), `v${step}`))
      } else if (r < 0.6) {
        track(name, rec.update({ increment: { [pick(['n.x', 'n.y'])]: 1 + Math.floor(random() * 5) } }))
      } else if (r < 0.72) {
        track(name, rec.update({ push: { list: step } }))
      } else if (r < 0.78) {
        track(name, rec.update({ unset: [pick(['s.a', 's.c', 'list', 'title'])] }))
      } else if (r < 0.84) {
        track(name, rec.set({ title: `whole ${step}`, n: { x: step } }))
      } else if (r < 0.88) {
        track(name, rec.delete())
      } else {
        // A conditional write against what this client believes: may conflict.
        track(name, rec.set('s.b', `if ${step}`, { ifVersion: rec.version }))
      }
      if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)))
    }

    for (const p of peers) p.proxy.up()
    await waitFor(() => peers.every((p) => p.sb.state === 'connected'), 'every client reconnected', 20_000)
    await Promise.race([
      Promise.all(writes),
      new Promise((_, reject) => setTimeout(() => reject(new Error('some writes never settled')), 20_000)),
    ])

    // A client that joins now reads what the server has (storage, through the record's lane).
    const fresh = await res.connected(url)
    for (const name of RECORDS) {
      const truth = fresh.record(name)
      await truth.ready
      const { version, data } = truth
      expect((await server.records.get(name))?.data).toEqual(data)
      const handles = peers.map((p) => p.recs[RECORDS.indexOf(name)] as RecordHandle)
      await waitFor(
        () => handles.every((h) => sameState(h, data, version)),
        `every client to agree on ${name} at version ${version}`,
        15_000,
      ).catch((err: Error) => {
        const states = handles.map((h, i) => `client ${i}: v${h.version} ${JSON.stringify(sorted(h.data))}`)
        throw new Error(`${err.message}\nserver: v${version} ${JSON.stringify(sorted(data))}\n${states.join('\n')}`)
      })
      const versions = [...(acked.get(name) ?? [])].sort((a, b) => a - b)
      expect(versions).toEqual(Array.from({ length: version }, (_, k) => k + 1))
    }
    // Conditional writes are the only ones allowed to fail.
    expect([...refused.keys()].filter((code) => code !== 'VERSION_CONFLICT')).toEqual([])
  })
})

function sameState(rec: RecordHandle, data: unknown, version: number): boolean {
  return rec.version === version && JSON.stringify(sorted(rec.data)) === JSON.stringify(sorted(data))
}

/** Key order does not matter for equality (PostgreSQL's JSONB reorders keys). */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
  )
}
