import { SwitchboardError } from '../../errors.js'
import type { RouteHandler } from '../../http/router.js'
import { fallbackRoute } from '../fallback/fallback-http.js'
import type { SessionDirectory } from '../fallback/session-directory.js'

/**
 * `GET /sse?ticket=<ticket>`: the SDK's event stream, the server → client half of the SSE
 * transport. Every server frame is a `data:` event; the stream opens with `event: ready` and
 * ends with `event: close` (`{code, reason}`). The ticket (from `POST /connect`) opens it once.
 */
export function streamEndpoint(deps: { cors: readonly string[]; directory: SessionDirectory }): RouteHandler {
  return fallbackRoute(deps.cors, 'GET', (_req, res, url) => {
    const transport = deps.directory.redeemTicket(url.searchParams.get('ticket') ?? '')
    if (!transport || transport.kind !== 'sse') {
      throw new SwitchboardError('AUTH_FAILED', 'the stream ticket is unknown, used or expired')
    }
    transport.attachStream(res)
  })
}
