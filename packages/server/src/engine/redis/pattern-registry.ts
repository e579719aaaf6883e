import type { NamePattern } from '@switchboard/protocol'
import { compileStreamPattern, isValidStreamPattern } from '../stream-pattern.js'
import type { Logger } from '../../log.js'
import type { NodeMessage } from '../node-bus.js'
import type { TopicReceiver } from '../node-topics.js'
import type { RedisKeys } from './keys.js'
import type { RedisConnection } from './redis-connection.js'
import type { SendToNode } from './redis-node-bus.js'

export const PATTERNS_TOPIC = 'patterns'

/** How long a new pattern subscription waits for the other nodes to confirm they know it. */
const CONFIRM_TIMEOUT_MS = 2000

type PatternMessage = { k: 'reload'; r: number } | { k: 'ack'; r: number }

interface Confirmation {
  waiting: Set<string>
  done: () => void
}

/**
 * Redis Cluster only. Sharded pub/sub delivers a stream's messages from its own shard, which is
 * what keeps fan-out cheap, but pattern subscribers (PSUBSCRIBE) hear classic PUBLISH only. So
 * the pattern subscriptions of all nodes are listed in Redis, every node keeps a copy, and a
 * publisher also PUBLISHes a publication that some node's pattern matches — in the same script
 * as the rest of the publish.
 *
 * A new pattern subscription resolves once every live node confirmed (over the node bus) that
 * it reloaded the list, so publications made anywhere after it resolved reach it. Every
 * heartbeat reloads the list as well, which covers a node that joins meanwhile.
 */
export class PatternRegistry implements TopicReceiver {
  private active: NamePattern[] = []
  private closed = false
  private requests = 0
  private readonly confirming = new Map<number, Confirmation>()

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly send: SendToNode,
    /** The other nodes believed alive. */
    private readonly peers: () => string[],
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.reload()
  }

  /** Some node subscribed to a pattern that matches `channel`. */
  matches(channel: string): boolean {
    // Internal streams ($records/…) count only for patterns over internal streams.
    const internal = channel.charCodeAt(0) === 36 /* $ */
    const active = this.active
    for (let i = 0; i < active.length; i++) {
      const pattern = active[i] as NamePattern
      if ((pattern.source.charCodeAt(0) === 36) === internal && pattern.matches(channel)) return true
    }
    return false
  }

  async add(pattern: string): Promise<void> {
    await this.redis.command(this.keys.patterns, ['SADD', this.keys.patterns, `${this.nodeId} ${pattern}`])
    await this.reload()
    await this.confirmed()
  }

  async remove(pattern: string): Promise<void> {
    await this.redis.command(this.keys.patterns, ['SREM', this.keys.patterns, `${this.nodeId} ${pattern}`])
    // Others publishing a little longer than needed costs nothing but a message: no need to wait.
    void this.confirmed()
  }

  /** Drops the entries of a node that died (called by the node that found it dead). */
  async forgetNode(nodeId: string): Promise<void> {
    const entries = await this.redis.command<string[]>(this.keys.patterns, ['SMEMBERS', this.keys.patterns])
    const gone = entries.filter((e) => e.startsWith(`${nodeId} `))
    if (gone.length === 0) return
    await this.redis.command(this.keys.patterns, ['SREM', this.keys.patterns, ...gone])
    void this.confirmed()
  }

  async reload(): Promise<void> {
    const entries = await this.redis.command<string[]>(this.keys.patterns, ['SMEMBERS', this.keys.patterns])
    const patterns = new Set(entries.map((e) => e.slice(e.indexOf(' ') + 1)).filter((p) => isValidStreamPattern(p)))
    this.active = [...patterns].map((p) => compileStreamPattern(p))
  }

  onNodeMessage(message: NodeMessage): void {
    const m = message.payload as PatternMessage
    if (m.k === 'reload') {
      this.reload().then(
        () => this.send(message.from, PATTERNS_TOPIC, { k: 'ack', r: m.r } satisfies PatternMessage),
        (err: unknown) => this.log.warn({ err }, 'reloading pattern subscriptions failed'),
      )
    } else if (m.k === 'ack') {
      const c = this.confirming.get(m.r)
      if (c?.waiting.delete(message.from) && c.waiting.size === 0) c.done()
    }
  }

  close(): void {
    this.closed = true
    for (const c of this.confirming.values()) c.done()
  }

  /** Asks every other live node to reload the list; resolves when all confirmed (or after a timeout). */
  private confirmed(): Promise<void> {
    const peers = this.peers().filter((n) => n !== this.nodeId)
    if (peers.length === 0 || this.closed) return Promise.resolve()
    const r = ++this.requests
    return new Promise<void>((resolve) => {
      const waiting = new Set(peers)
      const timer = setTimeout(() => {
        if (this.confirming.delete(r)) {
          this.log.warn({ waiting: [...waiting] }, 'nodes did not confirm a pattern subscription change in time')
          resolve()
        }
      }, CONFIRM_TIMEOUT_MS)
      this.confirming.set(r, {
        waiting,
        done: () => {
          clearTimeout(timer)
          this.confirming.delete(r)
          resolve()
        },
      })
      for (const node of peers) {
        this.send(node, PATTERNS_TOPIC, { k: 'reload', r } satisfies PatternMessage).then(
          (received) => {
            // A node that is not there any more cannot publish either.
            if (!received && waiting.delete(node) && waiting.size === 0) this.confirming.get(r)?.done()
          },
          () => {},
        )
      }
    })
  }
}
