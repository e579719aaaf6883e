import type { NodeBusHandler, NodeMessage } from './node-bus.js'

/** A receiver of node messages on one topic. */
export interface TopicReceiver {
  onNodeMessage(message: NodeMessage): void
}

/**
 * Shares one node bus between the parts that use it (the RPC router, the fallback transports'
 * relay, …): each message goes to the receiver of its topic; messages on topics nobody
 * receives are dropped (a newer node may speak a topic this one does not know).
 */
export class NodeTopics implements NodeBusHandler {
  private readonly receivers = new Map<string, TopicReceiver>()

  route(topic: string, receiver: TopicReceiver): this {
    if (this.receivers.has(topic)) throw new Error(`two receivers for node topic ${topic}`)
    this.receivers.set(topic, receiver)
    return this
  }

  onNodeMessage(message: NodeMessage): void {
    this.receivers.get(message.topic)?.onNodeMessage(message)
  }
}
