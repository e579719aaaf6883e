/**
 * What a cluster does when a node or Redis fails, with real processes: `kill -9` of a node
 * (its clients move to the others and recover; its presence members and RPC providers go),
 * and a Redis restart without persistence (/readyz 503 while it is down, the cluster works
 * again afterwards without a restart, recovering subscribers are told what they lost).
 * Needs `npm run build`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PresenceMember, Switchboard } from '@switchboard/client'
import type { CliServer } from '../support/cli-server.js'
import { ClusterNodes, type RedisTarget } from '../support/cluster-nodes.js'
import { scratchSchema } from '../support/postgres.js'
import {
  assertRedisReachable,
  dropPrefix,
  OwnRedis,
  RedisClusterProcesses,
  redisUrl,
  uniquePrefix,
} from '../support/redis.js'
import { Resources } from '../support/server.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup(), 60_000)

const CHANNELS = { 'c/**': { history: { size: 10_000, ttl: '10m' } } }
/** Short, so a dead node's members go quickly; the tests still wait on events, bounded by 30 s. */
const NODE_TIMEOUT = '2s'

async function startCluster(redis: RedisTarget, masters: string[], n: number): Promise<ClusterNodes> {
  const schema = await scratchSchema()
  res.add(schema, (s) => s.drop())
  const prefix = uniquePrefix()
  res.add(prefix, (p) => dropPrefix(p, masters).catch(() => {}))
  const cluster = new ClusterNodes({
    redis,
    prefix,
    postgresUrl: schema.url,
    nodeTimeout: NODE_TIMEOUT,
    config: { channels: CHANNELS, presence: { batchMs: 10 }, limits: { messagesPerSecond: 10_000 } },
  })
  res.add(cluster, (c) => c.stop())
  await cluster.startMany(n)
  return cluster
}

function watch(sb: Switchboard, room: string): { members: PresenceMember[] } {
  const seen = { members: [] as PresenceMember[] }
  sb.presence(room).subscribe((m) => (seen.members = m))
  return seen
}

interface Target {
  name: string
  start(): Promise<{ redis: RedisTarget; masters: string[] }>
}

const targets: Target[] = [
  {
    name: 'one Redis server',
    async start() {
      await assertRedisReachable()
      return { redis: { url: redisUrl() }, masters: [redisUrl()] }
    },
  },
  {
    name: 'a 3-master Redis Cluster',
    async start() {
      const cluster = res.add(await RedisClusterProcesses.start(), (c) => c.stop())
      return { redis: { cluster: cluster.urls }, masters: cluster.urls }
    },
  },
]

describe.each(targets)('kill -9 of a node, on $name', (target) => {
  it('its clients reconnect to the others and recover every acknowledged message; its presence members and providers go', async () => {
    const { redis, masters } = await target.start()
    const cluster = await startCluster(redis, masters, 3)
    const [a, b, c] = cluster.nodes as [CliServer, CliServer, CliServer]

    // The subscriber knows every node and starts on A.
    const sub = await res.connected([a.url, b.url, c.url])
    const got: number[] = []
    const s = sub.subscribe('c/feed', (d) => got.push(d as number), { recover: true })
    await s.ready
    const watcher = await res.connected(c.url)
    const room = watch(watcher, 'room/k')
    await sub.presence('room/k').join({ on: 'a' })
    const firstClientId = sub.clientId
    await waitFor(
      () => room.members.some((m) => m.clientId === firstClientId),
      'the watcher on C to see the member on A',
    )

    // A provider on A with a call in flight from C.
    const provider = await res.connected(a.url)
    await provider.rpc.provide('slow/op', () => new Promise(() => {})).ready
    const caller = await res.connected(c.url)
    const inFlight = caller.rpc.call('slow/op', null, { timeoutMs: 25_000 })
    inFlight.catch(() => {})

    // A publisher on B keeps publishing through the crash; what it got acks for must arrive.
    const publisher = await res.connected(b.url)
    const acked: number[] = []
    let n = 0
    let stop = false
    const pumping = (async () => {
      while (!stop) {
        const i = n++
        await publisher.publish('c/feed', i).then(() => acked.push(i))
      }
    })()
    await waitFor(() => got.length >= 100, 'live publications on the subscriber')

    const recovered = nextEvent<{ missed: number; complete: boolean }>((l) => s.on('recovered', l), 'recovered', 30_000)
    await a.kill()
    const r = await recovered
    expect(r.complete).toBe(true)
    await waitFor(() => acked.length >= got.length + 100 || got.length > 300, 'more publications after the move')
    stop = true
    await pumping
    await waitFor(() => got.length >= acked.length, 'every acknowledged publication on the subscriber', 30_000)
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i))

    // The member that was on A disappears from C's view (the client rejoined through B as a new member).
    await waitFor(
      () => !room.members.some((m) => m.clientId === firstClientId),
      'the dead node’s member to disappear',
      30_000,
      50,
    )
    await waitFor(() => room.members.some((m) => m.clientId === sub.clientId), 'the rejoined member', 30_000)

    // The call in flight to the dead node's provider ends (not after its 25 s timeout).
    await expect(inFlight).rejects.toMatchObject({ code: 'PROVIDER_LOST' })
  }, 90_000)
})

describe('Redis restart without persistence', () => {
  it('/readyz is 503 while Redis is down; afterwards the cluster works again and subscribers learn what was lost', async () => {
    const own = res.add(await OwnRedis.start(), (r) => r.destroy())
    const cluster = await startCluster({ url: own.url }, [], 2)
    const [n1, n2] = cluster.nodes as [CliServer, CliServer]

    const sub = await res.connected([n1.url, n2.url])
    const got: number[] = []
    const s = sub.subscribe('c/restart', (d) => got.push(d as number), { recover: true })
    await s.ready
    const watcher = await res.connected(n2.url)
    const room = watch(watcher, 'room/r')
    await sub.presence('room/r').join({ me: 'sub' })
    await sub.rpc.provide('echo/back', (x) => x).ready
    const publisher = await res.connected(n2.url)
    for (let i = 0; i < 5; i++) await publisher.publish('c/restart', i)
    await waitFor(() => got.length === 5, 'the first publications')

    const recovered = nextEvent<{ missed: number; complete: boolean }>((l) => s.on('recovered', l), 'recovered', 30_000)
    // While Redis is down the nodes refuse connections (503): every client is told so, and retries.
    const errors: string[] = []
    for (const c of [sub, watcher, publisher]) c.on('error', (e) => errors.push(e.code))
    await own.stop()
    await Promise.all([ClusterNodes.readyz(n1.url, 503), ClusterNodes.readyz(n2.url, 503)])
    // Nothing is acknowledged that Redis did not store.
    const refused = await fetch(`${n1.url}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'c/restart', data: 'lost?' }),
    })
    expect(refused.status).toBe(503)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE')

    await own.start()
    await Promise.all([ClusterNodes.readyz(n1.url, 200), ClusterNodes.readyz(n2.url, 200)])
    // Redis came back empty: the stream has a new epoch, so recovery says it is incomplete.
    expect((await recovered).complete).toBe(false)
    await s.ready
    await publisher.publish('c/restart', 100)
    await waitFor(() => got.includes(100), 'a publication after the restart')
    expect(got.filter((x) => x === 100)).toHaveLength(1)
    // Presence and RPC providers were announced again by the reconnected clients.
    await waitFor(
      () => room.members.some((m) => m.clientId === sub.clientId),
      'the subscriber in the room again',
      30_000,
    )
    expect(await publisher.rpc.call('echo/back', 'hi')).toBe('hi')
    expect(errors.every((code) => code === 'UNAVAILABLE')).toBe(true)
  }, 90_000)
})
