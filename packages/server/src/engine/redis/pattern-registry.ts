import { compilePattern, type NamePattern } from '@switchboard/protocol'
import type { Logger } from '../../log.js'
import type { RedisKeys } from './keys.js'
import type { RedisConnection } from './redis-connection.js'

/**
 * Redis Cluster only. Sharded pub/sub delivers a stream's messages from its own shard, which is
 * what keeps fan-out cheap, but pattern subscribers (PSUBSCRIBE) hear classic PUBLISH only. So
 * the pattern subscriptions of all nodes are listed in Redis, every node keeps a copy, and a
 * publisher also PUBLISHes a publication that some node's pattern matches — in the same script
 * as the rest of the publish.
 *
 * A new pattern subscription reaches the other nodes' copies through a classic pub/sub
 * notification (and a reload on every heartbeat): publications made elsewhere in the first
 * moments after it resolved may miss it. Patterns receive live publications only.
 */
export class PatternRegistry {
  private active: NamePattern[] = []
  private closed = false

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.redis.subscribeClassic(this.keys.patterns, this.onChanged)
    await this.reload()
  }

  /** Some node subscribed to a pattern that matches `channel`. */
  matches(channel: string): boolean {
    const active = this.active
    for (let i = 0; i < active.length; i++) if ((active[i] as NamePattern).matches(channel)) return true
    return false
  }

  async add(pattern: string): Promise<void> {
    await this.redis.command(this.keys.patterns, ['SADD', this.keys.patterns, `${this.nodeId} ${pattern}`])
    await this.announce()
    await this.reload()
  }

  async remove(pattern: string): Promise<void> {
    await this.redis.command(this.keys.patterns, ['SREM', this.keys.patterns, `${this.nodeId} ${pattern}`])
    await this.announce()
  }

  /** Drops the entries of a node that died (called by the node that found it dead). */
  async forgetNode(nodeId: string): Promise<void> {
    const entries = await this.redis.command<string[]>(this.keys.patterns, ['SMEMBERS', this.keys.patterns])
    const gone = entries.filter((e) => e.startsWith(`${nodeId} `))
    if (gone.length === 0) return
    await this.redis.command(this.keys.patterns, ['SREM', this.keys.patterns, ...gone])
    await this.announce()
  }

  async reload(): Promise<void> {
    const entries = await this.redis.command<string[]>(this.keys.patterns, ['SMEMBERS', this.keys.patterns])
    const patterns = new Set(entries.map((e) => e.slice(e.indexOf(' ') + 1)))
    this.active = [...patterns].map((p) => compilePattern(p))
  }

  close(): void {
    this.closed = true
  }

  private async announce(): Promise<void> {
    await this.redis.command(this.keys.patterns, ['PUBLISH', this.keys.patterns, this.nodeId])
  }

  private readonly onChanged = (): void => {
    if (this.closed) return
    this.reload().catch((err: unknown) => this.log.warn({ err }, 'reloading pattern subscriptions failed'))
  }
}
