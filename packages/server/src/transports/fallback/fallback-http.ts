import type { IncomingMessage, ServerResponse } from 'node:http'
import { SwitchboardError, toSwitchboardError } from '../../errors.js'
import { applyCors } from '../../http/cors.js'
import { sendError, type RouteHandler } from '../../http/router.js'
import { isAdmissionRefusal } from '../../limits/connection-gate.js'
import type { FallbackTransport } from './fallback-transport.js'
import { holderOf, type SessionDirectory } from './session-directory.js'
import type { SessionRelay } from './session-relay.js'

/** The session a `/send` or `/poll` addresses: a header, so it never lands in a URL or a log. */
export const SESSION_HEADER = 'x-switchboard-session'
/** `/poll`: the highest downstream sequence number the client has received. */
export const ACK_HEADER = 'x-switchboard-ack'
const ALLOWED_HEADERS = 'Content-Type, X-Switchboard-Session, X-Switchboard-Ack'

/**
 * Wraps a route of the fallback transports: CORS with the configured origins (and preflights),
 * 405 for other methods, and every failure as `{ error: { code, message } }` with its status.
 */
export function fallbackRoute(
  cors: readonly string[],
  method: 'GET' | 'POST',
  handle: (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>,
): RouteHandler {
  const allowed = `${method}, OPTIONS`
  return async (req, res, url) => {
    if (applyCors(req, res, cors, allowed, ALLOWED_HEADERS)) return
    try {
      if (req.method !== method) {
        res.setHeader('allow', allowed)
        return sendError(res, 405, 'INVALID_MESSAGE', `method ${req.method} not allowed`)
      }
      await handle(req, res, url)
    } catch (err) {
      const e = toSwitchboardError(err)
      if (res.headersSent) res.destroy()
      // The node's admission rate: 503 with Retry-After (the node is busy; the client did nothing wrong).
      else sendError(res, isAdmissionRefusal(e) ? 503 : undefined, e.code, e.message, e.data)
    }
  }
}

/** Where the session (or ticket) `id` lives: this node, another node of the cluster, or nowhere. */
export type Located = { local: FallbackTransport } | { node: string; relay: SessionRelay }

/** The session named by the request's session header (see `locate`). */
export function sessionOf(req: IncomingMessage, directory: SessionDirectory, relay?: SessionRelay): Located {
  const id = req.headers[SESSION_HEADER]
  return locate(typeof id === 'string' ? id : '', directory.find(typeof id === 'string' ? id : ''), relay)
}

/**
 * `found` when this node holds it; else the holder its id names when that is another node and
 * there is a relay; NOT_FOUND (404) otherwise.
 */
export function locate(id: string, found: FallbackTransport | undefined, relay: SessionRelay | undefined): Located {
  if (found) return { local: found }
  const node = holderOf(id)
  if (relay && node !== undefined && node !== relay.nodeId) return { node, relay }
  throw new SwitchboardError('NOT_FOUND', 'no such session: it ended or never existed')
}

/** A session the directory holds, for a request relayed from another node. */
export function heldSession(directory: SessionDirectory, id: string): FallbackTransport {
  const transport = directory.find(id)
  if (!transport) throw new SwitchboardError('NOT_FOUND', 'no such session: it ended or never existed')
  return transport
}
