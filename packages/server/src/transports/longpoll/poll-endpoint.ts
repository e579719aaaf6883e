import { SwitchboardError } from '../../errors.js'
import type { RouteHandler } from '../../http/router.js'
import { ACK_HEADER, fallbackRoute, SESSION_HEADER, sessionOf } from '../fallback/fallback-http.js'
import type { FallbackTransport, SessionResponse } from '../fallback/fallback-transport.js'
import type { SessionDirectory } from '../fallback/session-directory.js'
import type { SessionRelay } from '../fallback/session-relay.js'

export const POLL_PATH = '/poll'

/**
 * `GET /poll` with the session header and `X-Switchboard-Ack: <highest seq received>`: the
 * server → client half of long-polling. Answered with `{"seq":<seq of the first frame>,
 * "frames":[…],"close"?:{code,reason}}` as soon as frames wait, else held up to 25 s and
 * answered with none. Frames stay on the server until a later poll acknowledges them.
 */
export function pollEndpoint(deps: {
  cors: readonly string[]
  directory: SessionDirectory
  relay?: SessionRelay
  pollHoldMs: number
}): RouteHandler {
  return fallbackRoute(deps.cors, 'GET', async (req, res) => {
    const located = sessionOf(req, deps.directory, deps.relay)
    const header = req.headers[ACK_HEADER] ?? '0'
    const ack = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : NaN
    if (!Number.isSafeInteger(ack))
      throw new SwitchboardError('INVALID_MESSAGE', `${ACK_HEADER} must be an integer ≥ 0`)
    if ('local' in located) return startPoll(located.local, ack, res)
    const session = req.headers[SESSION_HEADER] as string
    await located.relay.forward(located.node, { op: 'poll', session, ack }, res, deps.pollHoldMs)
  })
}

/** A poll of `transport`, answered into `res` (local, or relayed from another node). */
export function startPoll(transport: FallbackTransport, ack: number, res: SessionResponse): void {
  if (transport.kind !== 'longpoll') throw new SwitchboardError('INVALID_MESSAGE', 'this session is not long-polling')
  transport.poll(ack, res)
}
