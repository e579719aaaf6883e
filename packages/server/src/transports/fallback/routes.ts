import type { RouteHandler } from '../../http/router.js'
import { POLL_PATH, pollEndpoint, startPoll } from '../longpoll/poll-endpoint.js'
import { SSE_PATH } from '../sse/sse-endpoint.js'
import { openStream, streamEndpoint } from '../sse/stream-endpoint.js'
import { CONNECT_PATH, connectEndpoint, type ConnectDeps } from './connect-endpoint.js'
import { heldSession } from './fallback-http.js'
import { applySend, SEND_PATH, sendEndpoint } from './send-endpoint.js'
import type { SessionDirectory } from './session-directory.js'
import type { RelayedHandler, SessionRelay } from './session-relay.js'

export interface FallbackRouteDeps extends ConnectDeps {
  maxMessageBytes: number
  /** `GET /sse` without a ticket: the plain EventSource endpoint (channels as events). */
  plainSse: RouteHandler
  /** Cluster: relays requests for sessions other nodes hold. */
  relay?: SessionRelay
}

/**
 * The HTTP routes of the SSE and long-polling transports: `/connect`, `/send`, `/poll`, and
 * `/sse`, shared by the SDK's event stream (`?ticket=`) and the plain EventSource endpoint.
 */
export function fallbackRoutes(deps: FallbackRouteDeps): [path: string, handler: RouteHandler][] {
  const stream = streamEndpoint(deps)
  return [
    [CONNECT_PATH, connectEndpoint(deps)],
    [SEND_PATH, sendEndpoint(deps)],
    [POLL_PATH, pollEndpoint({ ...deps, pollHoldMs: deps.timers.pollHoldMs })],
    [SSE_PATH, (req, res, url) => (url.searchParams.has('ticket') ? stream : deps.plainSse)(req, res, url)],
  ]
}

/** How this node serves a request another node relayed to it: as the local routes would. */
export function relayedRequests(directory: SessionDirectory): RelayedHandler {
  return (request, res) => {
    if (request.op === 'stream') return openStream(directory, request.ticket, res)
    const transport = heldSession(directory, request.session)
    if (request.op === 'poll') return startPoll(transport, request.ack, res)
    applySend(transport, request.body)
    res.writeHead(204, { 'cache-control': 'no-store' })
    res.end()
  }
}
