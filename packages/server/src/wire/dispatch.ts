import type { ClientMessage, ClientMessageType } from '@switchboard/protocol'
import type { Session } from '../session/session.js'

/**
 * One handler per client message type. A missing handler is a compile error; a handler that
 * returns a promise holds the session's inbound queue until it settles (use that for checks
 * whose answer must not reorder messages), and a thrown SwitchboardError answers the request.
 */
export type HandlerMap = {
  [K in ClientMessageType]: (session: Session, message: Extract<ClientMessage, { t: K }>) => void | Promise<void>
}

export function dispatcher(handlers: HandlerMap) {
  return (session: Session, message: ClientMessage): void | Promise<void> =>
    (handlers[message.t] as (s: Session, m: ClientMessage) => void | Promise<void>)(session, message)
}
