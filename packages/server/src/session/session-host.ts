import type { ClientMessage } from '@switchboard/protocol'
import type { Logger } from 'pino'
import type { Authenticator } from '../auth/authenticator.js'
import type { SwitchboardConfig } from '../config/types.js'
import type { MessageValidator } from '../wire/validate.js'
import type { FlushScheduler } from './flush-scheduler.js'
import type { Session } from './session.js'

/** What a session needs from the server around it; keeps Session free of server wiring. */
export interface SessionHost {
  readonly config: SwitchboardConfig
  readonly log: Logger
  readonly scheduler: FlushScheduler
  /** Frames sent, for /metrics. */
  readonly counters: { framesSent: number }
  readonly authenticator: Authenticator
  /** Checks decoded values against the modules' message schemas. */
  readonly validator: MessageValidator
  /** Handles a validated message of an open session; a returned promise holds the inbound queue. */
  dispatch(session: Session, message: ClientMessage): void | Promise<void>
  /** The handshake completed: the session is authenticated and welcomed. */
  sessionOpened?(session: Session): void
  sessionClosed(session: Session, code: number, reason: string): void
  /** The server's clock (`ServerOptions.clock`): heartbeat, handshake and rate-limit times. */
  now(): number
}
