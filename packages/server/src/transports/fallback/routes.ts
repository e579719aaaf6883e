import type { RouteHandler } from '../../http/router.js'
import { POLL_PATH, pollEndpoint } from '../longpoll/poll-endpoint.js'
import { SSE_PATH } from '../sse/sse-endpoint.js'
import { streamEndpoint } from '../sse/stream-endpoint.js'
import { CONNECT_PATH, connectEndpoint, type ConnectDeps } from './connect-endpoint.js'
import { SEND_PATH, sendEndpoint } from './send-endpoint.js'

export interface FallbackRouteDeps extends ConnectDeps {
  maxMessageBytes: number
  /** `GET /sse` without a ticket: the plain EventSource endpoint (channels as events). */
  plainSse: RouteHandler
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
    [POLL_PATH, pollEndpoint(deps)],
    [SSE_PATH, (req, res, url) => (url.searchParams.has('ticket') ? stream : deps.plainSse)(req, res, url)],
  ]
}
