/**
 * RedisOccupancy beyond the conformance suite (redis-engine.test.ts runs that): nodes that die
 * or are taken for dead, events lost on the way, Redis restarting empty. Each node is built
 * here with its own connection and its own node timeout, and beats when the test says so.
 */
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  assertRedisReachable,
  dropPrefix,
  OwnRedis,
  RedisClusterProcesses,
  redisUrl,
  uniquePrefix,
} from '../../../../../tests/support/redis.js'
import { TcpProxy } from '../../../../../tests/support/tcp-proxy.js'
import { waitFor } from '../../../../../tests/support/wait.js'
import type { OccupancyEvent } from '../occupancy.js'
import { RedisKeys } from './keys.js'
import { RedisConnection } from './redis-connection.js'
import { bucketIndex, RedisOccupancy } from './redis-occupancy.js'

const silent = pino({ level: 'silent' })
/** Long enough that a node the test keeps alive never expires on its own. */
const LONG = 60_000
/** Short enough to wait out: a node that stops beating counts as dead after this. */
const SHORT = 300

interface Target {
  url?: string
  cluster?: string[]
  prefix: string
}

interface Node {
  id: string
  occupancy: RedisOccupancy
  redis: RedisConnection
  events: OccupancyEvent[]
  caused: OccupancyEvent[]
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function node(target: Target, timeoutMs = LONG, url = target.url): Promise<Node> {
  const redis = new RedisConnection({ url, cluster: target.cluster, log: silent })
  await redis.open()
  const id = `n-${randomBytes(4).toString('hex')}`
  const occupancy = new RedisOccupancy(redis, new RedisKeys(target.prefix), id, timeoutMs, silent)
  const n: Node = { id, occupancy, redis, events: [], caused: [] }
  cleanups.push(async () => {
    await occupancy.close()
    await redis.close()
  })
  await occupancy.start({ onOccupancy: (e) => n.events.push(e), onCaused: (e) => n.caused.push(e) })
  return n
}

let seq = 0
const unique = () => `occ/${randomBytes(3).toString('hex')}${++seq}`
const about = (events: OccupancyEvent[], name: string) => events.filter((e) => e.name === name).map((e) => e.change)
const heard = (n: Node, name: string, changes: string[]) =>
  waitFor(() => about(n.events, name).join() === changes.join(), `${n.id} to hear ${changes.join(', ')} for ${name}`)

function describeShared(title: string, target: Target): void {
  describe(title, () => {
    it('a node that dies without closing: its names are vacated and its claims released once its timeout ran out, each reported by one survivor', async () => {
      // The survivors first: a node's start beats, and a beat that came more than SHORT after the
      // dying node's own start (a slow machine) would take it for dead before it holds anything.
      const [b, c] = [await node(target), await node(target)]
      const dying = await node(target, SHORT)
      const [alone, shared] = [unique(), unique()]
      await dying.occupancy.enter('channel', alone)
      await dying.occupancy.enter('channel', shared)
      await b.occupancy.enter('channel', shared)
      expect(await dying.occupancy.claim('channel', shared, 'L-dying')).toBe(true)
      await heard(b, alone, ['occupied'])
      await dying.redis.close() // a crash: no leave, no release, no more heartbeats
      // The survivors beat until both names expired: the two live in different buckets, whose
      // deadlines differ by the time between the dead node's two entries (a slow machine may
      // expire one bucket in a beat and the other only in the next).
      await waitFor(async () => {
        await Promise.all([b.occupancy.beat(), c.occupancy.beat()])
        return about(b.events, alone).includes('vacated') && about(b.events, shared).includes('released')
      }, 'a survivor to expire the dead node')
      await heard(b, shared, ['occupied', 'released'])
      await heard(c, alone, ['occupied', 'vacated'])
      const reports = [...b.caused, ...c.caused].filter((e) => e.name === alone)
      expect(reports).toEqual([{ kind: 'channel', name: alone, change: 'vacated' }])
      expect(await b.occupancy.claim('channel', shared, 'L-b')).toBe(true)
      expect(await b.occupancy.occupied('channel')).not.toContain(alone)
    })

    it('a node taken for dead that then holds a name and dies before its next heartbeat: the name still expires', async () => {
      const dying = await node(target, SHORT)
      const b = await node(target)
      const name = unique()
      const base = new RedisKeys(target.prefix).occupancyBucket(bucketIndex(`c:${name}`))
      const listed = async () => (await b.redis.command(`${base}m`, ['ZSCORE', `${base}x`, dying.id])) !== null
      await waitFor(async () => {
        await b.occupancy.beat()
        return !(await listed())
      }, 'the silent node to be taken for dead')
      await dying.occupancy.enter('channel', name)
      await dying.occupancy.claim('channel', name, 'L-dying')
      await dying.redis.close()
      await waitFor(async () => {
        await b.occupancy.beat()
        return about(b.events, name).includes('vacated')
      }, 'the name to expire')
      expect(b.caused).toEqual([{ kind: 'channel', name, change: 'vacated' }])
    })

    it('a node taken for dead while alive: its listener hears its claim end, and its names are held again at its next heartbeat', async () => {
      const b = await node(target) // first, as above: its start's beat must not expire `slow` early
      const slow = await node(target, SHORT)
      const [alone, shared] = [unique(), unique()]
      await slow.occupancy.enter('record', alone)
      await slow.occupancy.enter('record', shared)
      await b.occupancy.enter('record', shared)
      expect(await slow.occupancy.claim('record', shared, 'L-slow')).toBe(true)
      // Beats until both of its buckets expired (their deadlines differ, as above).
      await waitFor(async () => {
        await b.occupancy.beat()
        return about(b.events, alone).includes('vacated') && about(slow.events, shared).includes('released')
      }, 'the slow node to be expired')
      // Its listener's claim was dropped without a release from it: the node tells its owner.
      await heard(slow, shared, ['occupied', 'vacated', 'released'])
      expect(await b.occupancy.claim('record', shared, 'L-b')).toBe(true)
      await slow.occupancy.beat()
      await heard(b, alone, ['occupied', 'vacated', 'occupied'])
      expect(slow.caused).toEqual([{ kind: 'record', name: alone, change: 'occupied' }])
      expect(await b.occupancy.leave('record', shared)).toBe(false) // the slow node holds it again
      expect(await slow.occupancy.leave('record', alone)).toBe(true)
    })

    it('a node that restarts with the same id drops what the previous process held', async () => {
      const redis = new RedisConnection({ ...target, log: silent })
      await redis.open()
      const keys = new RedisKeys(target.prefix)
      const first = new RedisOccupancy(redis, keys, 'same-id', LONG, silent)
      await first.start({ onOccupancy: () => {}, onCaused: () => {} })
      const name = unique()
      await first.enter('channel', name)
      const b = await node(target)
      expect(await b.occupancy.occupied('channel')).toContain(name)
      // The process dies; a new one with the same id starts before the old entry ran out.
      const again = new RedisOccupancy(redis, keys, 'same-id', LONG, silent)
      cleanups.push(async () => {
        await again.close()
        await redis.close()
      })
      await again.start({ onOccupancy: () => {}, onCaused: () => {} })
      await heard(b, name, ['vacated'])
      expect(await b.occupancy.occupied('channel')).not.toContain(name)
    })
  })
}

describe('RedisOccupancy on one Redis server', () => {
  const target: Target = { url: redisUrl(), prefix: uniquePrefix() }
  beforeAll(() => assertRedisReachable())
  afterAll(() => dropPrefix(target.prefix))
  describeShared('shared behaviour', target)

  it('events a node missed while its connection was down reach it once it is back, in order per name', async () => {
    const proxy = await new TcpProxy(Number(new URL(redisUrl()).port)).start()
    cleanups.push(() => proxy.close())
    const a = await node(target)
    const b = await node(target, LONG, `redis://127.0.0.1:${proxy.port}`)
    // Four names in one bucket (one sequence of events), one in another.
    const first = unique()
    const same: string[] = [first]
    let other: string | undefined
    while (same.length < 4 || !other) {
      const n = unique()
      if (bucketIndex(`c:${n}`) === bucketIndex(`c:${first}`)) same.push(n)
      else other ??= n
    }
    const [x0, x1, x2, x3] = same as [string, string, string, string]
    await a.occupancy.enter('channel', x0)
    await heard(b, x0, ['occupied'])
    proxy.down()
    await a.occupancy.enter('channel', x1)
    await a.occupancy.leave('channel', x1)
    await a.occupancy.enter('channel', x2)
    await a.occupancy.enter('channel', other)
    proxy.up()
    await waitFor(() => b.redis.ready, 'the node to reconnect')
    await a.occupancy.enter('channel', x3)
    await heard(b, x3, ['occupied'])
    await heard(b, other, ['occupied'])
    const inBucket = b.events.filter((e) => same.includes(e.name))
    expect(inBucket.map((e) => [e.name, e.change])).toEqual([
      [x0, 'occupied'],
      [x1, 'occupied'],
      [x1, 'vacated'],
      [x2, 'occupied'],
      [x3, 'occupied'],
    ])
  })

  it('Redis restarting empty: names are held again, a claim that could not survive ends, and listeners claim anew', async () => {
    const own = await OwnRedis.start()
    cleanups.push(() => own.destroy())
    const ownTarget: Target = { url: own.url, prefix: target.prefix }
    const [a, b] = [await node(ownTarget), await node(ownTarget)]
    const name = unique()
    await a.occupancy.enter('channel', name)
    expect(await b.occupancy.claim('channel', name, 'L-b')).toBe(true)
    await heard(b, name, ['occupied'])
    await own.stop()
    await own.start()
    await waitFor(() => a.redis.ready && b.redis.ready, 'both nodes to reconnect')
    await waitFor(async () => {
      await Promise.all([a.occupancy.beat(), b.occupancy.beat()])
      return (await a.occupancy.occupied('channel')).includes(name) && about(b.events, name).includes('vacated')
    }, 'the name to be held again and the lost claim to end')
    expect(a.caused).toEqual([{ kind: 'channel', name, change: 'occupied' }])
    expect(about(b.events, name).slice(0, 2)).toEqual(['occupied', 'vacated'])
    expect(await b.occupancy.claim('channel', name, 'L-b')).toBe(true)
    expect(await a.occupancy.leave('channel', name)).toBe(true)
    await waitFor(() => about(b.events, name).filter((c) => c === 'vacated').length === 2, 'the name vacated')
  })
})

describe('RedisOccupancy on a Redis Cluster of three masters', () => {
  const target: Target = { cluster: [], prefix: uniquePrefix() }
  let cluster: RedisClusterProcesses | undefined
  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start()
    target.cluster = cluster.urls
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })
  describeShared('shared behaviour', target)
})
