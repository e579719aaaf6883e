import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, beforeAll, describe } from 'vitest'
import {
  assertRedisReachable,
  dropPrefix,
  RedisClusterProcesses,
  redisUrl,
  uniquePrefix,
} from '../../../../../tests/support/redis.js'
import { describeBrokerContract } from '../contract/broker.contract.js'
import { describeNodeBusContract } from '../contract/node-bus.contract.js'
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
  describeNodeBusContract(name, {
    // An engine starts its bus when it opens; the suite starts its buses itself.
    create: async (nodeId) => {
      const redis = new RedisConnection({ ...target, log: silent })
      await redis.open()
      const bus = new RedisNodeBus(redis, new RedisKeys(target.prefix), nodeId)
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
