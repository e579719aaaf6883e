import type { Logger } from '../../log.js'
import type { NodeBus, NodeBusHandler } from '../node-bus.js'
import type { RedisKeys } from './keys.js'
import type { RedisConnection } from './redis-connection.js'

/** Sends a node-addressed message; resolves false when no node with that id listens. */
export type SendToNode = (nodeId: string, topic: string, payload: unknown) => Promise<boolean>

/**
 * Node-addressed messages over Redis pub/sub: each node listens on its own channel (sharded on
 * a cluster). PUBLISH answers how many connections received a message, which is how `send`
 * knows whether the node is there. One connection publishes and one receives, so messages from
 * one node to another keep their order. Like all pub/sub, a message in flight when the
 * receiver's connection drops is lost; the engine then reports a disruption.
 *
 * Wire form: `<from> <topic> <payload JSON>` (node ids and topics have no spaces).
 */
export class RedisNodeBus implements NodeBus {
  private handler: NodeBusHandler | undefined
  private listening = false

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    readonly nodeId: string,
    private readonly log: Logger,
  ) {
    if (!/^[A-Za-z0-9_.:@-]{1,128}$/.test(nodeId)) throw new Error(`invalid node id: ${nodeId}`)
  }

  async start(handler: NodeBusHandler): Promise<void> {
    const channel = this.keys.node(this.nodeId)
    if ((await this.redis.listeners(channel)) > 0) {
      throw new Error(`node id ${this.nodeId} is already in use on this engine (engine.nodeId must be unique)`)
    }
    this.handler = handler
    await this.redis.subscribe(channel, this.onMessage)
    this.listening = true
  }

  async send(nodeId: string, topic: string, payload: unknown): Promise<boolean> {
    const channel = this.keys.node(nodeId)
    const message = `${this.nodeId} ${topic} ${JSON.stringify(payload) ?? 'null'}`
    const received = await this.redis.command<number>(channel, [this.redis.publishCommand, channel, message])
    return received > 0
  }

  async close(): Promise<void> {
    this.handler = undefined
    if (!this.listening) return
    this.listening = false
    await this.redis.unsubscribe(this.keys.node(this.nodeId), this.onMessage).catch(() => {})
  }

  private readonly onMessage = (message: string): void => {
    const handler = this.handler
    if (!handler) return
    const a = message.indexOf(' ')
    const b = message.indexOf(' ', a + 1)
    if (a < 0 || b < 0) return
    let payload: unknown
    try {
      payload = JSON.parse(message.slice(b + 1))
    } catch {
      return
    }
    // Thrown here, an error would unwind into the Redis client's reply parser.
    try {
      handler.onNodeMessage({ from: message.slice(0, a), topic: message.slice(a + 1, b), payload })
    } catch (err) {
      this.log.error({ err }, 'handling a node message failed')
    }
  }
}
