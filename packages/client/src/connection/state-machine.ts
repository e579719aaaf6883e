import { closeCodeInfo, SwitchboardError } from '@switchboard/protocol'

/**
 * The connection state machine, written as a table: state × event → next state + effects.
 * Nothing else decides transitions, and nothing else decides whether to reconnect: the end of
 * an attempt carries its close { code, reason } (and the server's error, if it gave one), and
 * `classifyEnd` turns it into an event through the catalogue in @switchboard/protocol.
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed'

/** How one transport attempt ended, as the transport and the server told it. */
export interface AttemptEnd {
  /** The WebSocket close code (ABNORMAL when the socket never opened). */
  readonly code: number
  readonly reason: string
  /** The server's own word: an `err` during the handshake, or the HTTP status of a refused upgrade. */
  readonly error?: SwitchboardError
  /**
   * When the server asked to be left alone for a while, in ms: a refusal's Retry-After, or a
   * draining node's `drain` hint (reconnect after it, to the next URL).
   */
  readonly retryAfterMs?: number
}

export type ConnectionEvent =
  | { readonly type: 'connect' } // the app called connect()
  | { readonly type: 'welcome' } // the server accepted the hello
  | { readonly type: 'retry' } // the backoff timer fired
  | { readonly type: 'close' } // the app called close()
  | { readonly type: 'switch' } // a WebSocket probe is welcomed and the current session drained
  | ({ readonly type: 'ended' } & AttemptEnd) // the transport closed, whoever closed it

/** What the end of an attempt means, read from the catalogue's policy for its close code and error. */
export type EndKind =
  | 'dropped' // reconnect quietly, with backoff
  | 'failover' // reconnect at once, quietly (the server drains, the session's token expired)
  | 'refused' // report the server's error, reject a pending connect(), reconnect with backoff
  | 'terminal' // report the error and stop

export type Effect =
  | 'openTransport'
  | 'closeTransport' // abandon the current attempt (if still open) and any probe; stop refreshing the token
  | 'scheduleRetry' // after the backoff delay, or the server's Retry-After if longer
  | 'retrySoon' // at once, or after the server's hint (a drain spreads its clients): no backoff
  | 'cancelRetry'
  | 'resetBackoff'
  | 'restore' // resubscribe, re-register: state the server forgot
  | 'adopt' // the welcomed WebSocket probe becomes the connection's session; the old one closes
  | 'resume' // restore after a switch: channels resume from their last delivered offset
  | 'announce' // emit 'transport'; on a fallback, schedule the WebSocket probe
  | 'flushQueue'
  | 'failInFlight' // requests sent but unanswered fail with DISCONNECTED
  | 'failQueued' // queued operations fail with the transition's error (the client stops)
  | 'reportError' // emit 'error' with the transition's error
  | 'rejectConnect' // pending connect() calls reject with the transition's error
  | 'settleConnect' // pending connect() calls resolve if connected, else reject

export interface Transition {
  readonly to: ConnectionState
  readonly effects: readonly Effect[]
}

/** A transition with its cause: the error its effects report or fail with, and the retry hint. */
export interface Step extends Transition {
  readonly error?: SwitchboardError
  readonly retryAfterMs?: number
}

type TableEvent = Exclude<ConnectionEvent['type'], 'ended'> | EndKind

const open: Transition = { to: 'connecting', effects: ['openTransport'] }
const welcome: Transition = {
  to: 'connected',
  effects: ['resetBackoff', 'restore', 'flushQueue', 'settleConnect', 'announce'],
}
const dropped: Transition = { to: 'reconnecting', effects: ['closeTransport', 'failInFlight', 'scheduleRetry'] }
const failover: Transition = { to: 'reconnecting', effects: ['closeTransport', 'failInFlight', 'retrySoon'] }
const refused: Transition = {
  to: 'reconnecting',
  effects: ['closeTransport', 'failInFlight', 'rejectConnect', 'reportError', 'scheduleRetry'],
}
const terminal: Transition = {
  to: 'closed',
  effects: ['closeTransport', 'failInFlight', 'failQueued', 'settleConnect', 'reportError'],
}
const closeByApp: Transition = {
  to: 'closed',
  effects: ['cancelRetry', 'closeTransport', 'failInFlight', 'failQueued', 'settleConnect'],
}

// Pending connect() calls are settled before 'error' is emitted, so a connect() called from an
// 'error' listener waits for the next attempt instead of being rejected with this one.
export const transitions: Record<ConnectionState, Partial<Record<TableEvent, Transition>>> = {
  idle: { connect: open, close: { to: 'closed', effects: ['failQueued'] } },
  connecting: { welcome, dropped, failover, refused, terminal, close: closeByApp },
  connected: {
    dropped,
    failover,
    // Nobody waits on connect() while connected: the error is reported, and the client reconnects.
    refused: { to: 'reconnecting', effects: ['closeTransport', 'failInFlight', 'reportError', 'scheduleRetry'] },
    terminal,
    close: closeByApp,
    // Requests unanswered on the old session (past the drain bound) fail as after a drop.
    switch: {
      to: 'connected',
      effects: ['adopt', 'failInFlight', 'resume', 'flushQueue', 'announce'],
    },
  },
  reconnecting: {
    retry: { to: 'reconnecting', effects: ['openTransport'] },
    welcome,
    dropped,
    failover,
    refused,
    terminal,
    close: closeByApp,
  },
  closed: { connect: open },
}

/**
 * The catalogue's policy applied to one attempt's end. `renewableToken`: the app gave a token
 * function, so an expired token can be replaced; a fixed token that expired never works again.
 */
export function classifyEnd(end: AttemptEnd, renewableToken: boolean): { kind: EndKind; error: SwitchboardError } {
  const close = closeCodeInfo(end.code)
  const error = end.error ?? new SwitchboardError(close.error ?? 'DISCONNECTED', end.reason || `closed (${end.code})`)
  if (!close.reconnect || !error.retryable) return { kind: 'terminal', error }
  if (error.code === 'TOKEN_EXPIRED' && !renewableToken) return { kind: 'terminal', error }
  // The server said why (an `err`, an HTTP status): the app hears of it, and the client backs off.
  if (end.error) return { kind: 'refused', error }
  if (close.immediate) return { kind: 'failover', error }
  return { kind: close.error ? 'refused' : 'dropped', error }
}

const closedByApp = () => new SwitchboardError('CLOSED', 'the client was closed')

/** The step for an event, or undefined when the event means nothing in that state. */
export function transition(
  state: ConnectionState,
  event: ConnectionEvent,
  context: { renewableToken: boolean },
): Step | undefined {
  if (event.type !== 'ended') {
    const t = transitions[state][event.type]
    return t && event.type === 'close' ? { ...t, error: closedByApp() } : t
  }
  const { kind, error } = classifyEnd(event, context.renewableToken)
  const t = transitions[state][kind]
  if (!t) return undefined
  return event.retryAfterMs === undefined ? { ...t, error } : { ...t, error, retryAfterMs: event.retryAfterMs }
}
