/**
 * A Switchboard cluster as it runs in production: three `switchboard start` processes joined
 * through Redis (one server, then a 3-master Redis Cluster started by the test), sharing
 * PostgreSQL storage, with clients connected to different nodes. Needs `npm run build`.
 */
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PresenceMember, Switchboard } from '@switchboard/client'
import { ClusterNodes, type RedisTarget } from '../support/cluster-nodes.js'
import { scratchSchema, type ScratchSchema } from '../support/postgres.js'
import { assertRedisReachable, dropPrefix, RedisClusterProcesses, redisUrl, uniquePrefix } from '../support/redis.js'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'

const CHANNELS = { 'c/**': { history: { size: 1000, ttl: '10m' } } }

interface Setup {
  name: string
  redis(): Promise<{ target: RedisTarget; masters: string[]; stop(): Promise<void> }>
}

const setups: Setup[] = [
  {
    name: 'one Redis server',
    async redis() {
      await assertRedisReachable()
      return { target: { url: redisUrl() }, masters: [redisUrl()], stop: async () => {} }
    },
  },
  {
    name: 'a 3-master Redis Cluster',
    async redis() {
      const cluster = await RedisClusterProcesses.start()
      return { target: { cluster: cluster.urls }, masters: cluster.urls, stop: () => cluster.stop() }
    },
  },
]

/** Everything one subscription received, in order. */
function collect(sb: Switchboard, channel: string, recover = false) {
  const got: { data: unknown; offset: number; epoch: string }[] = []
  const sub = sb.subscribe(channel, (data, info) => got.push({ data, offset: info.offset, epoch: info.epoch }), {
    recover,
  })
  return { got, sub }
}

describe.each(setups)('cluster of three nodes on $name', (setup) => {
  const res = new Resources()
  const prefix = uniquePrefix()
  let redis: Awaited<ReturnType<Setup['redis']>>
  let schema: ScratchSchema
  let cluster: ClusterNodes
  let urls: string[]

  beforeAll(async () => {
    redis = await setup.redis()
    schema = await scratchSchema()
    cluster = new ClusterNodes({
      redis: redis.target,
      prefix,
      postgresUrl: schema.url,
      config: { channels: CHANNELS, presence: { batchMs: 10 } },
    })
    urls = (await cluster.startMany(3)).map((n) => n.url)
  }, 120_000)

  afterAll(async () => {
    await res.cleanup()
    await cluster?.stop()
    await schema?.drop()
    await dropPrefix(prefix, redis?.masters).catch(() => {})
    await redis?.stop()
  }, 60_000)

  it('publications from every node reach subscribers on every node, in one order', async () => {
    const clients = await Promise.all(urls.map((u) => res.connected(u)))
    const subs = clients.map((sb) => collect(sb, 'c/order'))
    await Promise.all(subs.map((s) => s.sub.ready))
    const acks: Promise<{ offset: number }>[] = []
    for (let i = 0; i < 40; i++) {
      clients.forEach((sb, n) => acks.push(sb.publish('c/order', { n, i })))
    }
    const offsets = (await Promise.all(acks)).map((a) => a.offset).sort((a, b) => a - b)
    expect(offsets).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
    await waitFor(() => subs.every((s) => s.got.length === 120), 'every subscriber to get 120 publications')
    const first = subs[0]!.got
    expect(first.map((p) => p.offset)).toEqual(offsets)
    for (const s of subs) expect(s.got).toEqual(first)
  })

  it('pattern subscriptions on two nodes receive publications made on a third, once each', async () => {
    const [a1, a2, b, c] = await Promise.all([urls[0]!, urls[0]!, urls[1]!, urls[2]!].map((u) => res.connected(u)))
    // On node A: one client subscribes exactly, another with a pattern matching the same channel.
    const exact = collect(a1!, 'c/p/x')
    const patternOnA = collect(a2!, 'c/p/*')
    const patternOnC = collect(c!, 'c/**')
    await Promise.all([exact.sub.ready, patternOnA.sub.ready, patternOnC.sub.ready])
    for (let i = 0; i < 10; i++) await b!.publish('c/p/x', i)
    for (let i = 0; i < 5; i++) await b!.publish('c/p/y', i)
    await b!.publish('c/p/deeper/z', 'not for c/p/*')
    await waitFor(
      () => exact.got.length === 10 && patternOnA.got.length === 15 && patternOnC.got.length === 16,
      'every subscription to get its publications',
    )
    expect(exact.got.map((p) => p.data)).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(patternOnA.got.map((p) => p.data)).toEqual([...Array.from({ length: 10 }, (_, i) => i), 0, 1, 2, 3, 4])
    // Nothing more arrives (no second copy through another path).
    await b!.publish('c/p/x', 'last')
    await waitFor(
      () => exact.got.length === 11 && patternOnA.got.length === 16 && patternOnC.got.length === 17,
      'the last publication',
    )
    expect(patternOnC.got.filter((p) => p.data === 'last')).toHaveLength(1)
  })

  it('clients behind a round-robin proxy without stickiness land on every node and share channels', async () => {
    const proxy = res.add(await new TcpProxy(urls.map((u) => Number(new URL(u).port))).start(), (p) => p.close())
    const clients = await Promise.all(Array.from({ length: 6 }, () => res.connected(proxy.url)))
    expect([...proxy.accepted.values()]).toEqual([2, 2, 2])
    const subs = clients.map((sb) => collect(sb, 'c/rr'))
    await Promise.all(subs.map((s) => s.sub.ready))
    for (let i = 0; i < 30; i++) await clients[i % clients.length]!.publish('c/rr', i)
    await waitFor(() => subs.every((s) => s.got.length === 30), 'every client to get every publication')
    for (const s of subs) expect(s.got.map((p) => p.data)).toEqual(Array.from({ length: 30 }, (_, i) => i))
  })

  it('history written through one node is read through another, and recovery works across nodes', async () => {
    const [a, b, c] = await Promise.all(urls.map((u) => res.connected(u)))
    for (let i = 1; i <= 5; i++) await a!.publish('c/hist', i)
    const h = await b!.history('c/hist', { limit: 10 })
    expect(h.publications.map((p) => p.data)).toEqual([1, 2, 3, 4, 5])
    // A client that saw offset 2 on node A resumes on node C and gets exactly what followed.
    const since = { offset: 2, epoch: h.epoch }
    const after = await c!.history('c/hist', { since, limit: 10 })
    expect(after.publications.map((p) => p.data)).toEqual([3, 4, 5])
  })

  it('records converge when every node writes the same record at once', async () => {
    const clients = await Promise.all(urls.map((u) => res.connected(u, { offlineQueueLimit: 1000 })))
    const recs = clients.map((sb) => sb.record('todos/shared'))
    await Promise.all(recs.map((r) => r.ready))
    const writes: Promise<unknown>[] = []
    for (let i = 0; i < 20; i++) {
      recs.forEach((r, n) => {
        writes.push(r.update({ increment: { total: 1 } }))
        writes.push(r.set(`by.n${n}`, i))
      })
    }
    await Promise.all(writes)
    const expected = { total: 60, by: { n0: 19, n1: 19, n2: 19 } }
    await waitFor(
      () => recs.every((r) => r.version === 120 && isDeepStrictEqual(r.data, expected)),
      'every node’s subscriber to converge on version 120',
    )
    const stored = await clients[2]!.records.get('todos/shared')
    expect(stored).toEqual({ data: expected, version: 120 })
  })

  it('an RPC provided on one node is called from another; a rejection reroutes to a provider on a third', async () => {
    const [a, b, c] = await Promise.all(urls.map((u) => res.connected(u)))
    const onA = a!.rpc.provide('math/add', async (args: { x: number; y: number }) => args.x + args.y)
    await onA.ready
    expect(await c!.rpc.call('math/add', { x: 2, y: 3 })).toBe(5)

    const rejecting = a!.rpc.provide('work/do', async (_args, ctx) => ctx.reject())
    const answering = b!.rpc.provide('work/do', async () => 'done on b')
    await Promise.all([rejecting.ready, answering.ready])
    for (let i = 0; i < 4; i++) expect(await c!.rpc.call('work/do', null)).toBe('done on b')

    const silent = b!.rpc.provide('work/slow', () => new Promise(() => {}))
    await silent.ready
    await expect(c!.rpc.call('work/slow', null, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' })
    await onA.stop()
    await expect(c!.rpc.call('math/add', { x: 1, y: 1 })).rejects.toMatchObject({ code: 'NO_PROVIDER' })
  })

  it('presence: members joined on one node are seen, with their changes, by watchers on the others', async () => {
    const [a, b, c] = await Promise.all(urls.map((u) => res.connected(u)))
    let seen: PresenceMember[] = []
    c!.presence('room/x').subscribe((m) => (seen = m))
    await a!.presence('room/x').join({ s: 'on a' })
    await b!.presence('room/x').join({ s: 'on b' })
    await waitFor(() => seen.length === 2, 'the watcher on node C to see both members')
    expect(seen.map((m) => m.meta).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([
      { s: 'on a' },
      { s: 'on b' },
    ])
    await a!.presence('room/x').join({ s: 'typing' })
    await waitFor(() => seen.some((m) => (m.meta as { s: string }).s === 'typing'), 'the update from node A')
    await b!.presence('room/x').leave()
    await waitFor(() => seen.length === 1, 'the leave from node B')
    expect(seen[0]?.clientId).toBe(a!.clientId)
  })
})
