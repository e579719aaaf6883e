import type { HandlerMap } from '../protocol/dispatch.js'
import { SwitchboardError } from '../errors.js'

/** Connection-level messages of an open session. */
export function sessionHandlers(): Pick<HandlerMap, 'hello' | 'ping' | 'pong'> {
  return {
    hello() {
      throw new SwitchboardError('INVALID_MESSAGE', 'already connected')
    },
    ping(session) {
      session.send({ t: 'pong' })
    },
    pong() {},
  }
}
