import type { ClientTransportEvents, TransportFactory, WebSocketConstructor } from './transport.js'

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
    const finish = (code: number, reason: string) => {
      if (closed) return
      closed = true
      events.onClose(code, reason)
    }
    const ws = new WebSocketImpl(websocketUrl(baseUrl))
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
        if (!closed && ws.readyState === 1) ws.send(frame)
      },
      close(code = 1000, reason = '') {
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
