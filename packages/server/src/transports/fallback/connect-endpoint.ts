import { SwitchboardError } from '../../errors.js'
import { readJsonBody } from '../../http/body.js'
import { sendJson, type RouteHandler } from '../../http/router.js'
import type { ConnectionGate } from '../../limits/connection-gate.js'
import type { RequestsPerIp } from '../../limits/requests-per-ip.js'
import type { Transport, TransportSink } from '../transport.js'
import { fallbackRoute } from './fallback-http.js'
import { FallbackTransport, type FallbackKind, type FallbackTimers } from './fallback-transport.js'
import { routedSecret, type SessionDirectory } from './session-directory.js'

export const CONNECT_PATH = '/connect'
/** An event-stream ticket is redeemed within a round trip; this leaves room for a slow network. */
export const TICKET_TTL_MS = 30_000

export interface ConnectDeps {
  accept(transport: Transport): TransportSink
  cors: readonly string[]
  accepting(): boolean
  /** A fallback session is a connection: it passes the per-address connection limit. */
  gate: ConnectionGate
  rate: RequestsPerIp
  directory: SessionDirectory
  /** This node's id on the engine: session ids carry it so other nodes can relay to this one. */
  nodeId: string
  timers: FallbackTimers
}

/**
 * `POST /connect` `{"transport":"sse"|"longpoll"}` → `{"session":"<id>"}` (plus `"ticket"` for
 * the event stream). Opens a session exactly like a WebSocket connection does; the client then
 * says `hello` (with its token) through `POST /send`, so credentials travel in request bodies and
 * never in a URL. The session id is a 128-bit secret carried in a header; the ticket, the only
 * thing an EventSource URL holds, opens the stream once within TICKET_TTL_MS.
 */
export function connectEndpoint(deps: ConnectDeps): RouteHandler {
  const forget = (transport: FallbackTransport) => deps.directory.remove(transport) // one for all sessions
  return fallbackRoute(deps.cors, 'POST', async (req, res) => {
    if (!deps.accepting()) throw new SwitchboardError('UNAVAILABLE', 'the server is starting or shutting down')
    const admission = deps.gate.check(req)
    if (!deps.rate.take(admission.address)) {
      res.setHeader('retry-after', '1')
      throw new SwitchboardError('RATE_LIMITED', 'too many requests from this address; slow down')
    }
    const kind = transportKind(await readJsonBody(req, 1024))
    const release = deps.gate.acquire(admission)
    const transport = new FallbackTransport(
      kind,
      routedSecret(deps.nodeId),
      admission.address,
      deps.timers,
      forget,
      release,
    )
    deps.directory.add(transport)
    transport.sink = deps.accept(transport)
    res.setHeader('cache-control', 'no-store')
    sendJson(
      res,
      200,
      kind === 'sse'
        ? { session: transport.id, ticket: deps.directory.issueTicket(transport, TICKET_TTL_MS) }
        : { session: transport.id },
    )
  })
}

function transportKind(body: unknown): FallbackKind {
  const kind = (body as { transport?: unknown } | null)?.transport
  if (kind === 'sse' || kind === 'longpoll') return kind
  throw new SwitchboardError('INVALID_MESSAGE', 'the body must be {"transport":"sse"} or {"transport":"longpoll"}')
}
