import type { Logger } from '../../log.js'
import type { NodeMessage } from '../node-bus.js'
import type { TopicReceiver } from '../node-topics.js'
import type { RpcCall, RpcOutcome, RpcRouter, RpcRouterHandler } from '../rpc-router.js'
import type { RedisKeys } from './keys.js'
import type { RedisConnection } from './redis-connection.js'
import type { SendToNode } from './redis-node-bus.js'
import { PICK, UNREGISTER } from './rpc-scripts.js'

export const RPC_TOPIC = 'rpc'

/** Node-addressed messages: an invocation for a provider, and the outcome back to the caller's node. */
type RpcNodeMessage = { k: 'inv'; p: string; c: RpcCall } | { k: 'out'; i: string; o: RpcOutcome }

interface InFlight {
  node: string
  deadline: number
}

/** Provider → node entries kept for `deliver` (a provider lives on one node for its whole life). */
const NODE_CACHE_LIMIT = 10_000

/**
 * The cluster RPC router. The registry lives in Redis (providerId → node per name), so a pick
 * is one script: round-robin over every provider in the cluster, at once consistent on all
 * nodes. Calls travel to the provider's node and outcomes back as node-addressed messages.
 * A provider on this node is invoked directly.
 *
 * Losing a node: a call to a node nobody runs any more comes back `unavailable` (core reroutes);
 * calls already delivered to a node that then dies end `lost` when the node directory sees it
 * go. The node that finds a dead node removes its providers from the registry.
 */
export class RedisRpcRouter implements RpcRouter, TopicReceiver {
  private handler: RpcRouterHandler | undefined
  /** Providers registered through this node: providerId → names. */
  private readonly mine = new Map<string, Set<string>>()
  private readonly nodeOf = new Map<string, string>()
  private readonly inFlight = new Map<string, InFlight>()
  private sweeps = 0

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly send: SendToNode,
    private readonly log: Logger,
  ) {}

  async start(handler: RpcRouterHandler): Promise<void> {
    this.handler = handler
  }

  async register(name: string, providerId: string): Promise<void> {
    let names = this.mine.get(providerId)
    if (!names) this.mine.set(providerId, (names = new Set()))
    names.add(name)
    await this.store(name, providerId)
  }

  async unregister(name: string, providerId: string): Promise<void> {
    const names = this.mine.get(providerId)
    if (!names?.delete(name)) return
    if (names.size === 0) this.mine.delete(providerId)
    await this.remove(name, providerId)
  }

  async unregisterAll(providerId: string): Promise<void> {
    const names = this.mine.get(providerId)
    if (!names) return
    this.mine.delete(providerId)
    await Promise.all([...names].map((name) => this.remove(name, providerId)))
  }

  async pick(name: string, exclude: ReadonlySet<string> | undefined): Promise<string | null> {
    const picked = await this.redis.script<[string, string] | null>(
      PICK,
      [this.keys.rpcProviders(name), this.keys.rpcCursor(name)],
      exclude ? [...exclude] : [],
    )
    if (!picked) return null
    this.remember(picked[0], picked[1])
    return picked[0]
  }

  deliver(providerId: string, call: RpcCall): void {
    if (this.mine.has(providerId)) return this.invoke(providerId, call, this.nodeId)
    const node = this.nodeOf.get(providerId)
    if (node !== undefined) return this.forward(node, providerId, call)
    // Not picked through this node (a caller that kept an id): ask the registry where it lives.
    this.redis
      .command<string | null>(this.keys.rpcProviders(call.name), [
        'HGET',
        this.keys.rpcProviders(call.name),
        providerId,
      ])
      .then(
        (found) => {
          if (found === null || found === this.nodeId) this.outcome(call.id, { kind: 'unavailable' })
          else this.forward(found, providerId, call)
        },
        () => this.outcome(call.id, { kind: 'unavailable' }),
      )
  }

  async providerCount(name: string): Promise<number> {
    return this.redis.command<number>(this.keys.rpcProviders(name), ['HLEN', this.keys.rpcProviders(name)])
  }

  async close(): Promise<void> {
    this.handler = undefined
    const mine = [...this.mine]
    this.mine.clear()
    // A clean shutdown takes this node's providers out at once (not after the node timeout).
    await Promise.allSettled(mine.flatMap(([id, names]) => [...names].map((name) => this.remove(name, id))))
    this.inFlight.clear()
  }

  // ---- messages from other nodes -------------------------------------------------------

  onNodeMessage(message: NodeMessage): void {
    const m = message.payload as RpcNodeMessage
    if (m.k === 'inv') this.invoke(m.p, m.c, message.from)
    else if (m.k === 'out' && this.inFlight.delete(m.i)) this.handler?.onOutcome(m.i, m.o)
  }

  // ---- node directory events -------------------------------------------------------------

  /** A node is gone: the calls it was given will not be answered. */
  nodeDown(nodeId: string): void {
    for (const [callId, f] of this.inFlight) {
      if (f.node !== nodeId) continue
      this.inFlight.delete(callId)
      this.handler?.onOutcome(callId, { kind: 'lost' })
    }
  }

  /** This node found `nodeId` dead: its providers leave the registry. */
  async forgetNode(nodeId: string): Promise<void> {
    const key = this.keys.nodeProviders(nodeId)
    const entries = await this.redis.command<string[]>(key, ['SMEMBERS', key])
    await Promise.all(
      entries.map((entry) => {
        const cut = entry.indexOf('\n')
        const name = entry.slice(0, cut)
        return this.redis.script(
          UNREGISTER,
          [this.keys.rpcProviders(name), this.keys.rpcCursor(name)],
          [entry.slice(cut + 1)],
        )
      }),
    )
    await this.redis.command(key, ['DEL', key])
  }

  /** The registry lost this node's providers (it was declared dead, or Redis lost its data): register them again. */
  async reannounce(): Promise<void> {
    await Promise.all([...this.mine].flatMap(([id, names]) => [...names].map((name) => this.store(name, id))))
  }

  // ---- internals -------------------------------------------------------------------------

  private async store(name: string, providerId: string): Promise<void> {
    const set = this.keys.nodeProviders(this.nodeId)
    await Promise.all([
      this.redis.command(this.keys.rpcProviders(name), ['HSET', this.keys.rpcProviders(name), providerId, this.nodeId]),
      this.redis.command(set, ['SADD', set, `${name}\n${providerId}`]),
    ])
  }

  private async remove(name: string, providerId: string): Promise<void> {
    const set = this.keys.nodeProviders(this.nodeId)
    await Promise.all([
      this.redis.script(UNREGISTER, [this.keys.rpcProviders(name), this.keys.rpcCursor(name)], [providerId]),
      this.redis.command(set, ['SREM', set, `${name}\n${providerId}`]),
    ])
  }

  /** Runs a call for a provider of this node; the outcome goes back to `origin`. */
  private invoke(providerId: string, call: RpcCall, origin: string): void {
    const handler = this.handler
    if (!handler) return
    const answer = (outcome: RpcOutcome) => {
      if (origin === this.nodeId) this.outcome(call.id, outcome)
      else {
        const out: RpcNodeMessage = { k: 'out', i: call.id, o: outcome }
        this.send(origin, RPC_TOPIC, out).catch((err: unknown) =>
          this.log.warn({ err, rpc: call.name }, 'rpc outcome could not be sent back'),
        )
      }
    }
    if (!this.mine.get(providerId)?.has(call.name)) return answer({ kind: 'unavailable' })
    let replied = false
    handler.onInvoke(providerId, call, (outcome) => {
      if (replied) return
      replied = true
      answer(outcome)
    })
  }

  private forward(node: string, providerId: string, call: RpcCall): void {
    this.inFlight.set(call.id, { node, deadline: call.deadline })
    if (++this.sweeps % 1024 === 0) this.sweepInFlight()
    const inv: RpcNodeMessage = { k: 'inv', p: providerId, c: call }
    this.send(node, RPC_TOPIC, inv).then(
      (received) => {
        if (!received && this.inFlight.delete(call.id)) this.handler?.onOutcome(call.id, { kind: 'unavailable' })
      },
      () => {
        if (this.inFlight.delete(call.id)) this.handler?.onOutcome(call.id, { kind: 'unavailable' })
      },
    )
  }

  private outcome(callId: string, outcome: RpcOutcome): void {
    this.handler?.onOutcome(callId, outcome)
  }

  private remember(providerId: string, node: string): void {
    if (this.nodeOf.size >= NODE_CACHE_LIMIT) this.nodeOf.clear()
    this.nodeOf.set(providerId, node)
  }

  /** Calls whose caller stopped waiting need no answer any more. */
  private sweepInFlight(): void {
    const now = Date.now()
    for (const [callId, f] of this.inFlight) if (f.deadline < now) this.inFlight.delete(callId)
  }
}
