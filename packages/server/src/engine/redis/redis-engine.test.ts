import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertRedisReachable,
  dropPrefix,
  RedisClusterProcesses,
  redisUrl,
  uniquePrefix,
} from '../../../../../tests/support/redis.js'
import { describeBrokerContract } from '../contract/broker.contract.js'
import { describeNodeBusContract } from '../contract/node-bus.contract.js'
import { describeOccupancyContract } from '../contract/occupancy.contract.js'
import { describePresenceStoreContract } from '../contract/presence-store.contract.js'
import { describeRpcRouterContract } from '../contract/rpc-router.contract.js'
import type { Engine } from '../engine.js'
import { RedisKeys } from './keys.js'
import { RedisConnection } from './redis-connection.js'
import { createRedisEngine } from './redis-engine.js'
import { RedisNodeBus } from './redis-node-bus.js'

/** Where the engines of one suite connect: filled in by its beforeAll. */
interface Target {
  url?: string
  cluster?: string[]
  prefix: string
}

const silent = pino({ level: 'silent' })

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 5000
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** One command on the shared Redis (`[routing key, ...command]`). */
async function redisCommand<T>(target: Target, [key, ...args]: string[]): Promise<T> {
  const redis = new RedisConnection({ ...target, log: silent })
  await redis.open()
  try {
    return (await redis.command(key, args)) as T
  } finally {
    await redis.close()
  }
}

/** Deletes keys the way a Redis restart without persistence would lose them. */
async function dropKeys(target: Target, keys: string[]): Promise<void> {
  const redis = new RedisConnection({ ...target, log: silent })
  await redis.open()
  for (const key of keys) await redis.command(key, ['DEL', key])
  await redis.close()
}

async function openEngine(target: Target, nodeId = `n-${randomBytes(4).toString('hex')}`): Promise<Engine> {
  const engine = createRedisEngine({ ...target, nodeId, nodeTimeoutMs: 4000, log: silent })
  await engine.open!()
  return engine
}

/** A part of a fresh engine (a node of its own) whose close() also closes that engine. */
async function partOf<T extends { close(): Promise<void> }>(target: Target, pick: (e: Engine) => T): Promise<T> {
  const engine = await openEngine(target)
  const part = pick(engine)
  const closePart = part.close.bind(part)
  part.close = async () => {
    await closePart()
    await engine.close!()
  }
  return part
}

function describeRedisEngine(name: string, target: Target): void {
  const factory = <T extends { close(): Promise<void> }>(pick: (e: Engine) => T) => ({
    create: () => partOf(target, pick),
    createPeer: () => partOf(target, pick),
  })
  describeBrokerContract(
    name,
    factory((e) => e.broker),
  )
  describePresenceStoreContract(
    name,
    factory((e) => e.presenceStore),
  )
  describeRpcRouterContract(
    name,
    factory((e) => e.rpcRouter),
  )
  describeOccupancyContract(name, {
    nodes: (count) => Promise.all(Array.from({ length: count }, () => partOf(target, (e) => e.occupancy))),
  })
  describeNodeBusContract(name, {
    // An engine starts its bus when it opens; the suite starts its buses itself.
    create: async (nodeId) => {
      const redis = new RedisConnection({ ...target, log: silent })
      await redis.open()
      const bus = new RedisNodeBus(redis, new RedisKeys(target.prefix), nodeId, silent)
      const closeBus = bus.close.bind(bus)
      bus.close = async () => {
        await closeBus()
        await redis.close()
      }
      return bus
    },
  })
}

describe('Redis engine on one Redis server', () => {
  const target: Target = { url: redisUrl(), prefix: uniquePrefix() }
  beforeAll(() => assertRedisReachable())
  afterAll(() => dropPrefix(target.prefix))
  describeRedisEngine('redis', target)

  describe('RedisBroker specifics', () => {
    const keep = { size: 10, ttlMs: 0 }

    it('a stream whose data Redis lost comes back with a new epoch; recovery from the old one is incomplete', async () => {
      const broker = await partOf(target, (e) => e.broker)
      await broker.start({ onPublication: () => {} })
      const before = await broker.publish('lost/1', 'a', { history: keep })
      await broker.publish('lost/1', 'b', { history: keep })
      const keys = new RedisKeys(target.prefix)
      await dropKeys(target, [keys.streamMeta('lost/1'), keys.streamHistory('lost/1')])
      const after = await broker.publish('lost/1', 'c', { history: keep })
      expect(after.offset).toBe(1)
      expect(after.epoch).not.toBe(before.epoch)
      const h = await broker.history('lost/1', { since: { offset: 1, epoch: before.epoch }, limit: 10 }, keep)
      expect(h.complete).toBe(false)
      expect(h.publications).toEqual([])
      expect(h.position).toEqual({ offset: 1, epoch: after.epoch })
      await broker.close()
    })

    it('history drops publications older than the ttl (Redis clock)', async () => {
      const broker = await partOf(target, (e) => e.broker)
      await broker.start({ onPublication: () => {} })
      const short = { size: 10, ttlMs: 200 }
      const { epoch } = await broker.publish('ttl/1', 'old', { history: short })
      await waitFor(
        async () => (await broker.history('ttl/1', { limit: 10 }, short)).publications.length === 0,
        'the publication to expire',
      )
      await broker.publish('ttl/1', 'new', { history: short })
      const h = await broker.history('ttl/1', { limit: 10 }, short)
      expect(h.publications.map((p) => [p.offset, p.data])).toEqual([[2, 'new']])
      const since = await broker.history('ttl/1', { since: { offset: 0, epoch }, limit: 10 }, short)
      expect(since.complete).toBe(false)
      expect(since.publications.map((p) => p.data)).toEqual(['new'])
      await broker.close()
    })

    it('a stream with history and no ttl is kept for good, whoever created it; with a ttl its keys expire', async () => {
      const broker = await partOf(target, (e) => e.broker)
      await broker.start({ onPublication: () => {} })
      const keys = new RedisKeys(target.prefix)
      const pttl = (key: string) => redisCommand<number>(target, [key, 'PTTL', key])
      // A subscriber's position read creates the stream (kept an hour unless published to).
      await broker.history('keep/1', { limit: 0 }, keep)
      expect(await pttl(keys.streamMeta('keep/1'))).toBeGreaterThan(0)
      await broker.publish('keep/1', 'x', { history: keep })
      expect(await pttl(keys.streamMeta('keep/1'))).toBe(-1)
      expect(await pttl(keys.streamHistory('keep/1'))).toBe(-1)
      await broker.publish('keep/1', 'y', { history: { size: 10, ttlMs: 60_000 } })
      expect(await pttl(keys.streamHistory('keep/1'))).toBeGreaterThan(0)
      await broker.publish('keep/1', 'z', { history: keep })
      expect(await pttl(keys.streamMeta('keep/1'))).toBe(-1)
      expect(await pttl(keys.streamHistory('keep/1'))).toBe(-1)
      await broker.close()
    })

    it('expiries are renewed only once less than needed is left (no PEXPIRE per publication)', async () => {
      const broker = await partOf(target, (e) => e.broker)
      await broker.start({ onPublication: () => {} })
      const keys = new RedisKeys(target.prefix)
      const meta = keys.streamMeta('idle/1')
      const hist = keys.streamHistory('idle/1')
      const pttl = (key: string) => redisCommand<number>(target, [key, 'PTTL', key])
      const hour = 60 * 60 * 1000
      const none = { size: 0, ttlMs: 0 }
      await broker.publish('idle/1', 1, { history: none })
      // Set a quarter longer than the hour an idle stream is kept.
      expect(await pttl(meta)).toBeGreaterThan(hour)
      // Shortened behind the script's back: the next publication is not due to renew it...
      await redisCommand(target, [meta, 'PEXPIRE', meta, String(hour + 60_000)])
      await broker.publish('idle/1', 2, { history: none })
      expect(await pttl(meta)).toBeLessThanOrEqual(hour + 60_000)
      // ...until what is left (as recorded in the meta) falls under the hour.
      await redisCommand(target, [meta, 'HSET', meta, 'x', String(Date.now() + 1000)])
      await broker.publish('idle/1', 3, { history: none })
      expect(await pttl(meta)).toBeGreaterThan(hour)
      // With a ttl, the history list is kept at least the ttl after its newest entry.
      const short = { size: 10, ttlMs: 60_000 }
      await broker.publish('idle/1', 4, { history: short })
      expect(await pttl(hist)).toBeGreaterThan(60_000)
      await redisCommand(target, [meta, 'HSET', meta, 'y', '1'])
      await redisCommand(target, [hist, 'PEXPIRE', hist, '1000'])
      await broker.publish('idle/1', 5, { history: short })
      expect(await pttl(hist)).toBeGreaterThan(60_000)
      expect((await broker.history('idle/1', { limit: 10 }, short)).publications.map((p) => p.data)).toEqual([4, 5])
      await broker.close()
    })

    it('history stays contiguous when publications switch between keeping history and not', async () => {
      const broker = await partOf(target, (e) => e.broker)
      await broker.start({ onPublication: () => {} })
      await broker.publish('mix/1', 1, { history: keep })
      await broker.publish('mix/1', 2, { history: { size: 0, ttlMs: 0 } })
      await broker.publish('mix/1', 3, { history: keep })
      const h = await broker.history('mix/1', { limit: 10 }, keep)
      expect(h.publications.map((p) => [p.offset, p.data])).toEqual([[3, 3]])
      await broker.close()
    })
  })
})

describe('Redis engine on a Redis Cluster of three masters', () => {
  const target: Target = { cluster: [], prefix: uniquePrefix() }
  let cluster: RedisClusterProcesses | undefined
  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start()
    target.cluster = cluster.urls
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })
  describeRedisEngine('redis cluster', target)
})
