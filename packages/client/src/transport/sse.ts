import { endpoint, goodbye, openSession, TransportEnd, unreachable, Uplink } from './http-session.js'
import type {
  ClientTransportEvents,
  EventSourceConstructor,
  EventSourceLike,
  FetchFunction,
  TransportFactory,
} from './transport.js'

/**
 * Server-Sent Events down, `POST /send` up: `POST /connect` answers a session and a single-use
 * ticket, the only credential the EventSource URL carries. Every server frame is a `data:`
 * event; `ready` opens the stream and `close` ends it. The session lives and dies with the
 * stream: EventSource's own reconnection is not used (a broken stream is a dropped connection,
 * and the client reconnects and recovers as over WebSocket).
 */
export function sseTransport(fetchImpl: FetchFunction, EventSourceImpl: EventSourceConstructor): TransportFactory {
  return (base: string, events: ClientTransportEvents) => {
    const controller = new AbortController()
    let uplink: Uplink | undefined
    let source: EventSourceLike | undefined
    let session: string | undefined
    let closed = false
    /** `ended`: the server ended the session (its close event); otherwise the client says goodbye. */
    const finish = (end: TransportEnd, ended = false) => {
      if (closed) return
      closed = true
      controller.abort()
      if (session && !ended) goodbye(fetchImpl, base, session)
      source?.close()
      events.onClose(end.code, end.reason, end.refusal)
    }

    openSession(fetchImpl, base, 'sse', controller.signal).then(
      (opened) => {
        session = opened.session
        if (closed) return goodbye(fetchImpl, base, session)
        uplink = new Uplink(fetchImpl, endpoint(base, '/send'), session, controller.signal, finish)
        const es = (source = new EventSourceImpl(`${endpoint(base, '/sse')}?ticket=${opened.ticket}`))
        es.addEventListener('ready', () => closed || events.onOpen())
        es.onmessage = (e) => closed || events.onFrame(e.data)
        es.addEventListener('close', (e) => {
          const { code, reason } = JSON.parse(e.data) as { code: number; reason: string }
          finish(new TransportEnd(code, reason), true)
        })
        es.onerror = () => finish(new TransportEnd(1006, 'the event stream broke'))
      },
      (err: unknown) => finish(err instanceof TransportEnd ? err : unreachable()),
    )

    return {
      send: (frame) => uplink?.send(frame),
      close: (code = 1000, reason = '') => finish(new TransportEnd(code, reason)),
    }
  }
}
