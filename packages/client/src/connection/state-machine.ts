/**
 * The connection state machine, written as a table: state × event → next state + effects.
 * Nothing else decides transitions; the Connection only runs the effects.
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed'

export type ConnectionEvent =
  | 'connect' // the app called connect()
  | 'welcome' // the server accepted the hello
  | 'lost' // the transport dropped, or the server went silent; may reconnect
  | 'fatal' // terminal close (auth failure, protocol error): do not reconnect
  | 'retry' // the backoff timer fired
  | 'close' // the app called close()

export type Effect =
  | 'openTransport'
  | 'scheduleRetry'
  | 'resetBackoff'
  | 'restore' // resubscribe, re-register: state the server forgot
  | 'flushQueue'
  | 'failInFlight' // requests sent but unanswered fail with DISCONNECTED
  | 'failQueued' // queued operations fail (the client will not reconnect)
  | 'closeTransport'
  | 'cancelRetry'
  | 'settleConnect'

export interface Transition {
  to: ConnectionState
  effects: readonly Effect[]
}

const open: Transition = { to: 'connecting', effects: ['openTransport'] }
const drop: Transition = { to: 'reconnecting', effects: ['failInFlight', 'scheduleRetry'] }
const fatal: Transition = { to: 'closed', effects: ['failInFlight', 'failQueued', 'settleConnect'] }
const closeByApp: Transition = {
  to: 'closed',
  effects: ['cancelRetry', 'closeTransport', 'failInFlight', 'failQueued', 'settleConnect'],
}
const welcome: Transition = { to: 'connected', effects: ['resetBackoff', 'restore', 'flushQueue', 'settleConnect'] }

export const transitions: Record<ConnectionState, Partial<Record<ConnectionEvent, Transition>>> = {
  idle: { connect: open, close: { to: 'closed', effects: ['failQueued'] } },
  connecting: { welcome, lost: drop, fatal, close: closeByApp },
  connected: { lost: drop, fatal, close: closeByApp },
  reconnecting: {
    retry: { to: 'reconnecting', effects: ['openTransport'] },
    welcome,
    lost: drop,
    fatal,
    close: closeByApp,
  },
  closed: { connect: open },
}

/** The transition for an event, or undefined when the event means nothing in that state. */
export function transition(state: ConnectionState, event: ConnectionEvent): Transition | undefined {
  return transitions[state][event]
}
