import { SwitchboardError } from '../../errors.js'
import type { RouteHandler } from '../../http/router.js'
import { fallbackRoute, locate } from '../fallback/fallback-http.js'
import type { SessionResponse } from '../fallback/fallback-transport.js'
import type { SessionDirectory } from '../fallback/session-directory.js'
import type { SessionRelay } from '../fallback/session-relay.js'

/**
 * `GET /sse?ticket=<ticket>`: the SDK's event stream, the server → client half of the SSE
 * transport. Every server frame is a `data:` event; the stream opens with `event: ready` and
 * ends with `event: close` (`{code, reason}`). The ticket (from `POST /connect`) opens it once.
 * In a cluster, a ticket of another node's session is relayed there, and the stream with it.
 */
export function streamEndpoint(deps: {
  cors: readonly string[]
  directory: SessionDirectory
  relay?: SessionRelay
}): RouteHandler {
  return fallbackRoute(deps.cors, 'GET', async (_req, res, url) => {
    const ticket = url.searchParams.get('ticket') ?? ''
    const found = deps.directory.redeemTicket(ticket)
    let located
    try {
      located = locate(ticket, found, deps.relay)
    } catch {
      throw badTicket()
    }
    if ('local' in located) return openStream(deps.directory, ticket, res, located.local)
    await located.relay.forward(located.node, { op: 'stream', ticket }, res)
  })
}

/** Opens the event stream of the session `ticket` opens (redeemed here unless `redeemed` is given). */
export function openStream(
  directory: SessionDirectory,
  ticket: string,
  res: SessionResponse,
  redeemed = directory.redeemTicket(ticket),
): void {
  if (!redeemed || redeemed.kind !== 'sse') throw badTicket()
  redeemed.attachStream(res)
}

function badTicket(): SwitchboardError {
  return new SwitchboardError('AUTH_FAILED', 'the stream ticket is unknown, used or expired')
}
