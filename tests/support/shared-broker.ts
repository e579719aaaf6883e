import { MemoryBroker, type Broker, type BrokerHandler } from '@switchboard/server'

/**
 * A stand-in for a cluster engine inside one test process: several servers get brokers on one
 * hub, and every publication reaches every server (as Redis would for the channels they
 * subscribe to; core ignores the rest). History lives once, in the hub.
 */
export class BrokerHub {
  private readonly memory = new MemoryBroker()
  private readonly handlers = new Set<BrokerHandler>()
  private readonly started: Promise<void>

  constructor() {
    this.started = this.memory.start({ onPublication: (p) => this.handlers.forEach((h) => h.onPublication(p)) })
  }

  /** A broker for one server. */
  broker(): Broker {
    const hub = this.memory
    let own: BrokerHandler | undefined
    return {
      start: async (handler) => {
        await this.started
        own = handler
        this.handlers.add(handler)
      },
      subscribe: async () => {},
      unsubscribe: async () => {},
      publish: (channel, data, options) => hub.publish(channel, data, options),
      history: (channel, query, options) => hub.history(channel, query, options),
      close: async () => {
        if (own) this.handlers.delete(own)
      },
    }
  }
}
