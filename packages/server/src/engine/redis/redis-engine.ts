import type { Logger } from '../../log.js'
import type { Engine, NodeListing } from '../engine.js'
import { NodeTopics } from '../node-topics.js'
import { RedisKeys } from './keys.js'
import { NodeDirectory } from './node-directory.js'
import { PatternRegistry, PATTERNS_TOPIC } from './pattern-registry.js'
import { RedisBroker } from './redis-broker.js'
import { RedisCommittedWrites } from './redis-committed-writes.js'
import { RedisConnection } from './redis-connection.js'
import { RedisNodeBus } from './redis-node-bus.js'
import { RedisOccupancy } from './redis-occupancy.js'
import { RedisPresenceStore } from './redis-presence-store.js'
import { RedisRpcRouter, RPC_TOPIC } from './redis-rpc-router.js'

export interface RedisEngineOptions {
  /** One Redis server. */
  url?: string
  /** Redis Cluster seed nodes (instead of `url`). */
  cluster?: string[]
  /** Prefix of every key and channel; nodes that share it form one cluster. */
  prefix: string
  /** Unique among the nodes on this prefix. */
  nodeId: string
  /**
   * A node silent for this long counts as dead: its presence members run out, its RPC
   * providers leave the registry, and the names it held stop counting as occupied (listeners
   * and hooks hear them vacated). Nodes refresh every quarter of it.
   */
  nodeTimeoutMs: number
  log: Logger
}

/**
 * The cluster engine on Redis (`engine: { type: redis }`): one connection set per node, shared
 * by the broker, the node bus, the presence store, the RPC router and the occupancy registry; one
 * heartbeat timer that keeps the node in the directory and its presence members and occupancy
 * holdings alive.
 */
export function createRedisEngine(options: RedisEngineOptions): Engine & NodeListing {
  const { nodeId, nodeTimeoutMs, log } = options
  const redis = new RedisConnection({ url: options.url, cluster: options.cluster, log })
  const keys = new RedisKeys(options.prefix)
  const bus = new RedisNodeBus(redis, keys, nodeId, log)
  const send = (node: string, topic: string, payload: unknown) => bus.send(node, topic, payload)
  const topics = new NodeTopics()
  const patterns = redis.clustered
    ? new PatternRegistry(redis, keys, nodeId, send, () => directory.liveNodes(), log)
    : undefined
  const broker = new RedisBroker(redis, keys, patterns, log)
  const presenceStore = new RedisPresenceStore(redis, keys, nodeTimeoutMs, log)
  const rpcRouter = new RedisRpcRouter(redis, keys, nodeId, send, log)
  const occupancy = new RedisOccupancy(redis, keys, nodeId, nodeTimeoutMs, log)
  if (patterns) topics.route(PATTERNS_TOPIC, patterns)
  topics.route(RPC_TOPIC, rpcRouter)
  const failed = (what: string) => (err: unknown) => log.warn({ err }, what)
  const directory = new NodeDirectory(
    redis,
    keys,
    nodeId,
    nodeTimeoutMs,
    {
      down: (node) => rpcRouter.nodeDown(node),
      removed: (node) => {
        log.warn({ node }, 'node timed out: removing its RPC providers')
        rpcRouter.forgetNode(node).catch(failed('removing a dead node’s RPC providers failed'))
        patterns?.forgetNode(node).catch(failed('removing a dead node’s pattern subscriptions failed'))
      },
      rejoined: () => {
        rpcRouter.reannounce().catch(failed('registering RPC providers again failed'))
      },
    },
    log,
  )

  let timer: ReturnType<typeof setInterval> | undefined
  let ticking = false
  const tick = async () => {
    if (ticking) return
    ticking = true
    try {
      await Promise.all([
        directory.beat().catch(failed('node heartbeat failed')),
        presenceStore.refresh(),
        occupancy.beat().catch(failed('occupancy heartbeat failed')),
        patterns?.reload().catch(failed('reloading pattern subscriptions failed')),
      ])
    } finally {
      ticking = false
    }
  }

  return {
    nodeId,
    broker,
    bus,
    topics,
    presenceStore,
    rpcRouter,
    occupancy,
    committedWrites: new RedisCommittedWrites(redis, keys, log),
    liveNodes: () => directory.liveNodes(),
    async open() {
      await redis.open()
      await bus.start(topics)
      await patterns?.start()
      await directory.beat()
      timer = setInterval(() => void tick(), Math.max(Math.floor(nodeTimeoutMs / 4), 50))
      timer.unref()
    },
    async close() {
      clearInterval(timer)
      patterns?.close()
      await directory.leave().catch(() => {})
      await bus.close()
      await redis.close()
    },
    health: {
      get ready() {
        return redis.ready
      },
      onDisrupted: (listener) => redis.onDisrupted(listener),
    },
  }
}
