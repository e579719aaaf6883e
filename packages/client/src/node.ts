/**
 * The Node.js entry: the same client with `ws` as its WebSocket, also where the runtime has a
 * global one (Node ≥ 22): `ws` tells a refused upgrade's HTTP status (429 at a connection limit,
 * 503 while the server drains) from a dropped network, which the global WebSocket hides.
 * Browsers and React Native resolve to index.js and never load `ws`.
 */
import WebSocketImpl from 'ws'
import { Switchboard as BaseSwitchboard, type SwitchboardOptions } from './switchboard.js'
import type { WebSocketConstructor } from './transport/transport.js'

export * from './index.js'

export class Switchboard extends BaseSwitchboard {
  constructor(url: string | string[], options: SwitchboardOptions = {}) {
    super(url, { WebSocket: WebSocketImpl as unknown as WebSocketConstructor, ...options })
  }
}
