import type { BrokerHandler, Publication } from './broker.js'

/** A receiver of engine streams. */
export interface StreamReceiver {
  receive(publication: Publication): void
}

/**
 * Routes each publication the broker delivers to the concept that owns its stream, by stream
 * name prefix (record changes travel on `$records/…`); everything else goes to the default
 * receiver (user channels). Internal prefixes start with `$`, which user names cannot contain.
 */
export class StreamRouter implements BrokerHandler {
  private readonly prefixed: [prefix: string, receiver: StreamReceiver][] = []
  private fallback: StreamReceiver | undefined

  /** `prefix` undefined: the default route (exactly one). */
  route(prefix: string | undefined, receiver: StreamReceiver): this {
    if (prefix === undefined) {
      if (this.fallback) throw new Error('two default stream routes')
      this.fallback = receiver
    } else {
      if (!prefix.startsWith('$')) throw new Error(`internal stream prefix must start with $: ${prefix}`)
      if (this.prefixed.some(([p]) => p.startsWith(prefix) || prefix.startsWith(p))) {
        throw new Error(`overlapping stream prefix ${prefix}`)
      }
      this.prefixed.push([prefix, receiver])
    }
    return this
  }

  onPublication(publication: Publication): void {
    const channel = publication.channel
    if (channel.charCodeAt(0) === 36 /* $ */) {
      for (const [prefix, receiver] of this.prefixed) {
        if (channel.startsWith(prefix)) return receiver.receive(publication)
      }
      return
    }
    this.fallback?.receive(publication)
  }
}
