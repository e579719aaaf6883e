import { CloseCode } from '@switchboard/protocol'
import type { ClientTransportEvents, TransportFactory, UpgradeRefusal, WebSocketConstructor } from './transport.js'
import { upgradeRefusal } from './upgrade-refusal.js'

/** WebSocket.OPEN: the browser global is not there in every runtime. */
const OPEN = 1

/** `http://host:7070` → `ws://host:7070/ws` (and https → wss). */
export function websocketUrl(baseUrl: string): string {
  const url = new URL(baseUrl)
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:'
  url.pathname = url.pathname.replace(/\/$/, '') + (url.pathname.endsWith('/ws') ? '' : '/ws')
  return url.toString()
}

export function websocketTransport(WebSocketImpl: WebSocketConstructor): TransportFactory {
  return (baseUrl: string, events: ClientTransportEvents) => {
    let closed = false
    let refusal: UpgradeRefusal | undefined
    const finish = (code: number, reason: string) => {
      if (closed) return
      closed = true
      if (refusal) events.onClose(code, reason, refusal)
      else events.onClose(code, reason)
    }
    const ws = new WebSocketImpl(websocketUrl(baseUrl))
    // Node's `ws` shows why an upgrade was refused (429 at a connection limit, 503 while draining);
    // with a listener, aborting is ours to do. Browsers only report a failed connection.
    ws.on?.('unexpected-response', (_request, response) => {
      refusal = upgradeRefusal(response)
      ws.close()
    })
    ws.onopen = () => events.onOpen()
    ws.onmessage = (e) => {
      if (!closed) events.onFrame(typeof e.data === 'string' ? e.data : String(e.data))
    }
    ws.onclose = (e) => finish(e.code, e.reason)
    ws.onerror = () => {
      /* a close event always follows */
    }
    return {
      send(frame) {
        if (!closed && ws.readyState === OPEN) ws.send(frame)
      },
      close(code = CloseCode.NORMAL, reason = '') {
        try {
          ws.close(code, reason)
        } catch {
          ws.close()
        }
        // Report the close now: a dead peer may never complete the closing handshake.
        finish(code, reason)
      },
    }
  }
}
