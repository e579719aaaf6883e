import { SwitchboardError } from '../../errors.js'
import type { RouteHandler } from '../../http/router.js'
import { ACK_HEADER, fallbackRoute, sessionOf } from '../fallback/fallback-http.js'
import type { SessionDirectory } from '../fallback/session-directory.js'

export const POLL_PATH = '/poll'

/**
 * `GET /poll` with the session header and `X-Switchboard-Ack: <highest seq received>`: the
 * server → client half of long-polling. Answered with `{"seq":<seq of the first frame>,
 * "frames":[…],"close"?:{code,reason}}` as soon as frames wait, else held up to 25 s and
 * answered with none. Frames stay on the server until a later poll acknowledges them.
 */
export function pollEndpoint(deps: { cors: readonly string[]; directory: SessionDirectory }): RouteHandler {
  return fallbackRoute(deps.cors, 'GET', (req, res) => {
    const transport = sessionOf(req, deps.directory)
    if (transport.kind !== 'longpoll') throw new SwitchboardError('INVALID_MESSAGE', 'this session is not long-polling')
    const header = req.headers[ACK_HEADER] ?? '0'
    const ack = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : NaN
    if (!Number.isSafeInteger(ack))
      throw new SwitchboardError('INVALID_MESSAGE', `${ACK_HEADER} must be an integer ≥ 0`)
    transport.poll(ack, res)
  })
}
