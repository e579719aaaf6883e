/**
 * The Node.js entry: the same client, with `ws` injected when the runtime has no global
 * WebSocket (Node 20). Browsers and React Native resolve to index.js and never load `ws`.
 */
import WebSocketImpl from 'ws'
import { Switchboard as BaseSwitchboard, type SwitchboardOptions } from './switchboard.js'
import type { WebSocketConstructor } from './transport/transport.js'

export * from './index.js'

export class Switchboard extends BaseSwitchboard {
  constructor(url: string | string[], options: SwitchboardOptions = {}) {
    const globalWs = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    super(url, { WebSocket: globalWs ?? (WebSocketImpl as unknown as WebSocketConstructor), ...options })
  }
}
