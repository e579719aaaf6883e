/**
 * The Node.js entry: the same client with `ws` as its WebSocket, also where the runtime has a
 * global one (Node ≥ 22): `ws` tells a refused upgrade's HTTP status (429 at a connection limit,
 * 503 while the server drains) from a dropped network, which the global WebSocket hides. The
 * `eventsource` package stands in for EventSource where there is no global one (Node 20–22).
 * Browsers and React Native resolve to index.js and never load either.
 */
import { EventSource as EventSourcePackage } from 'eventsource'
import WebSocketImpl from 'ws'
import { Switchboard as BaseSwitchboard, type SwitchboardOptions } from './switchboard.js'
import type { EventSourceConstructor, WebSocketConstructor } from './transport/transport.js'

export * from './index.js'

const EventSourceImpl = ((globalThis as { EventSource?: unknown }).EventSource ??
  EventSourcePackage) as unknown as EventSourceConstructor

export class Switchboard extends BaseSwitchboard {
  constructor(url: string | string[], options: SwitchboardOptions = {}) {
    super(url, {
      WebSocket: WebSocketImpl as unknown as WebSocketConstructor,
      EventSource: EventSourceImpl,
      ...options,
    })
  }
}
