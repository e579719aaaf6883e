import type { ClientMessage, ClientMessageType } from '@switchboard/protocol'
import type { Session } from '../session/session.js'

/**
 * Handles one validated message of an open session. A returned promise holds the session's
 * inbound queue until it settles (use that for checks whose answer must not reorder messages);
 * a thrown SwitchboardError answers the request with its code.
 */
export type MessageHandler<K extends ClientMessageType> = (
  session: Session,
  message: Extract<ClientMessage, { t: K }>,
) => void | Promise<void>

/** One handler per client message type; concepts implement a `Pick` of it. */
export type HandlerMap = { [K in ClientMessageType]: MessageHandler<K> }
