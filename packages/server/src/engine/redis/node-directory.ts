import type { Logger } from '../../log.js'
import type { RedisKeys } from './keys.js'
import { LuaScript, REDIS_NOW } from './lua-script.js'
import type { RedisConnection } from './redis-connection.js'

/**
 * Heartbeat: refreshes this node's entry, removes entries whose time ran out (each by exactly
 * one node, which then cleans up after it), and lists the live nodes.
 * KEYS: nodes. ARGV: [1] node id, [2] timeout ms. Returns { 1 if this node was not listed, {dead…}, {live…} }.
 */
const HEARTBEAT = new LuaScript(
  'heartbeat',
  `${REDIS_NOW}
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #dead > 0 then redis.call('ZREM', KEYS[1], unpack(dead)) end
return {added, dead, redis.call('ZRANGE', KEYS[1], 0, -1)}`,
)

export interface NodeDirectoryEvents {
  /** A node this one knew is gone (died or left): its in-flight work will not be answered. */
  down(nodeId: string): void
  /** This node found `nodeId` dead and removed it: clean up what it registered. */
  removed(nodeId: string): void
  /** This node was missing from the directory (it was declared dead, or Redis lost the data): announce everything again. */
  rejoined(): void
}

/**
 * Which nodes are alive. Every node refreshes its entry on each heartbeat; an entry not
 * refreshed within the node timeout is removed by whichever node notices first.
 */
export class NodeDirectory {
  private live = new Set<string>()
  private beaten = false

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly timeoutMs: number,
    private readonly events: NodeDirectoryEvents,
    private readonly log: Logger,
  ) {}

  /** One heartbeat; the engine calls it every quarter of the node timeout. */
  async beat(): Promise<void> {
    const [added, dead, live] = await this.redis.script<[number, string[], string[]]>(
      HEARTBEAT,
      [this.keys.nodes],
      [this.nodeId, this.timeoutMs],
    )
    const first = !this.beaten
    this.beaten = true
    if (added === 1 && !first) {
      this.log.warn({ node: this.nodeId }, 'this node was missing from the node directory: announcing again')
      this.events.rejoined()
    }
    for (const node of dead) this.events.removed(node)
    const now = new Set(live)
    for (const node of this.live) if (!now.has(node)) this.events.down(node)
    this.live = now
  }

  /** The nodes listed at the last heartbeat (this one included). */
  liveNodes(): string[] {
    return [...this.live]
  }

  /** Leaves the directory (a clean shutdown): the others see this node go at once. */
  async leave(): Promise<void> {
    await this.redis.command(this.keys.nodes, ['ZREM', this.keys.nodes, this.nodeId])
  }
}
