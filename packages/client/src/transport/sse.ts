import { ended, endpoint, fallbackTransport } from './http-session.js'
import type { EventSourceConstructor, FetchFunction, TransportFactory } from './transport.js'

/**
 * Server-Sent Events down, `POST /send` up: `POST /connect` answers a session and a single-use
 * ticket, the only credential the EventSource URL carries. Every server frame is a `data:`
 * event; `ready` opens the stream and `close` ends it. The session lives and dies with the
 * stream: EventSource's own reconnection is not used (a broken stream is a dropped connection,
 * and the client reconnects and recovers as over WebSocket).
 */
export function sseTransport(fetchImpl: FetchFunction, EventSourceImpl: EventSourceConstructor): TransportFactory {
  return fallbackTransport('sse', fetchImpl, ({ ticket }, { base, open, frame, finish }) => {
    const es = new EventSourceImpl(`${endpoint(base, '/sse')}?ticket=${ticket}`)
    es.addEventListener('ready', open)
    es.onmessage = (e) => frame(e.data)
    es.addEventListener('close', (e) => {
      const { code, reason } = JSON.parse(e.data) as { code: number; reason: string }
      finish(ended(code, reason), true)
    })
    es.onerror = () => finish(ended(1006, 'event stream broke'))
    return () => es.close()
  })
}
