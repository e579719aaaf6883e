import { CloseCode, SwitchboardError } from '@switchboard/protocol'
import { describe, expect, it } from 'vitest'
import {
  classifyEnd,
  transition,
  transitions,
  type AttemptEnd,
  type ConnectionEvent,
  type ConnectionState,
} from './state-machine.js'

const fixedToken = { renewableToken: false }
const tokenFunction = { renewableToken: true }
const ended = (end: AttemptEnd): ConnectionEvent => ({ type: 'ended', ...end })
const kind = (end: AttemptEnd, renewableToken = false) => classifyEnd(end, renewableToken).kind

describe('connection state machine', () => {
  it('the happy path: idle → connecting → connected → reconnecting → connected → closed', () => {
    let s: ConnectionState = 'idle'
    const step = (e: ConnectionEvent) => (s = transition(s, e, fixedToken)!.to)
    expect(step({ type: 'connect' })).toBe('connecting')
    expect(step({ type: 'welcome' })).toBe('connected')
    expect(step(ended({ code: CloseCode.ABNORMAL, reason: '' }))).toBe('reconnecting')
    expect(step({ type: 'retry' })).toBe('reconnecting')
    expect(step({ type: 'welcome' })).toBe('connected')
    expect(step({ type: 'close' })).toBe('closed')
  })

  it('a reconnect restores state before flushing the queue', () => {
    const effects = transition('reconnecting', { type: 'welcome' }, fixedToken)!.effects
    expect(effects.indexOf('restore')).toBeLessThan(effects.indexOf('flushQueue'))
  })

  it('events that mean nothing in a state are ignored', () => {
    expect(transition('idle', { type: 'welcome' }, fixedToken)).toBeUndefined()
    expect(transition('closed', ended({ code: CloseCode.ABNORMAL, reason: '' }), fixedToken)).toBeUndefined()
    expect(transition('connected', { type: 'retry' }, fixedToken)).toBeUndefined()
  })

  it('every transition lands in a known state', () => {
    const states = Object.keys(transitions)
    for (const row of Object.values(transitions)) for (const t of Object.values(row)) expect(states).toContain(t!.to)
  })

  it('close by the app always wins, and fails what waits with CLOSED', () => {
    for (const s of ['connecting', 'connected', 'reconnecting'] as const) {
      const step = transition(s, { type: 'close' }, fixedToken)!
      expect(step.to).toBe('closed')
      expect(step.effects).toEqual(expect.arrayContaining(['cancelRetry', 'closeTransport', 'failQueued']))
      expect(step.error?.code).toBe('CLOSED')
    }
  })
})

describe('reconnect policy, read from the catalogue', () => {
  it('drops reconnect quietly with backoff', () => {
    for (const code of [CloseCode.GOING_AWAY, CloseCode.ABNORMAL, CloseCode.HEARTBEAT_TIMEOUT, 4321]) {
      expect(kind({ code, reason: '' }), String(code)).toBe('dropped')
    }
    const step = transition('connected', ended({ code: CloseCode.ABNORMAL, reason: 'cut' }), fixedToken)!
    expect(step).toMatchObject({ to: 'reconnecting', effects: ['closeTransport', 'failInFlight', 'scheduleRetry'] })
  })

  it('a draining server and an expired session (with a token function) reconnect at once', () => {
    expect(kind({ code: CloseCode.SHUTDOWN, reason: '' })).toBe('failover')
    expect(kind({ code: CloseCode.TOKEN_EXPIRED, reason: '' }, true)).toBe('failover')
    expect(transition('connected', ended({ code: CloseCode.SHUTDOWN, reason: '' }), fixedToken)!.effects).toContain(
      'retrySoon',
    )
  })

  it("a draining node's close reconnects quietly, after its hint, without backoff", () => {
    const step = transition(
      'connected',
      ended({ code: CloseCode.DRAINING, reason: '', retryAfterMs: 300 }),
      fixedToken,
    )!
    expect(kind({ code: CloseCode.DRAINING, reason: '' })).toBe('failover')
    expect(step).toMatchObject({ to: 'reconnecting', retryAfterMs: 300 })
    expect(step.effects).toContain('retrySoon')
    expect(step.effects).not.toContain('reportError')
  })

  it('an expired fixed token can never work again: terminal', () => {
    const step = transition('connected', ended({ code: CloseCode.TOKEN_EXPIRED, reason: 'expired' }), fixedToken)!
    expect(step.to).toBe('closed')
    expect(step.error).toMatchObject({ code: 'TOKEN_EXPIRED', message: 'expired' })
  })

  it('auth failure is terminal: reported, connect() rejected, queue failed', () => {
    const error = new SwitchboardError('AUTH_FAILED', 'token signature is invalid')
    const step = transition('connecting', ended({ code: CloseCode.AUTH_FAILED, reason: 'x', error }), tokenFunction)!
    expect(step.to).toBe('closed')
    expect(step.effects).toEqual(expect.arrayContaining(['reportError', 'settleConnect', 'failQueued']))
    expect(step.error).toBe(error)
    // A close code alone says as much.
    expect(classifyEnd({ code: CloseCode.AUTH_FAILED, reason: '' }, true).error.code).toBe('AUTH_FAILED')
  })

  it('terminal close codes stop the client with their error, DISCONNECTED when they name none', () => {
    expect(classifyEnd({ code: CloseCode.PROTOCOL_ERROR, reason: '' }, true)).toMatchObject({
      kind: 'terminal',
      error: { code: 'INVALID_MESSAGE' },
    })
    expect(classifyEnd({ code: CloseCode.NORMAL, reason: 'bye' }, true)).toMatchObject({
      kind: 'terminal',
      error: { code: 'DISCONNECTED', message: 'bye' },
    })
    expect(kind({ code: 4999, reason: '' })).toBe('terminal')
  })

  it('a refusal by a limit is reported, rejects a pending connect() and reconnects with backoff', () => {
    const step = transition('connecting', ended({ code: CloseCode.CONNECTION_LIMIT, reason: '' }), fixedToken)!
    expect(step.to).toBe('reconnecting')
    expect(step.effects).toEqual(['closeTransport', 'failInFlight', 'rejectConnect', 'reportError', 'scheduleRetry'])
    expect(step.error?.code).toBe('TOO_MANY_CONNECTIONS')
    expect(transition('reconnecting', ended({ code: CloseCode.CONNECTION_LIMIT, reason: '' }), fixedToken)?.to).toBe(
      'reconnecting',
    )
  })

  it("the server's own error wins over the close code, and its retry hint travels with the step", () => {
    const error = new SwitchboardError('UNAVAILABLE', 'the server refused the connection with HTTP 503')
    const end = { code: CloseCode.ABNORMAL, reason: '', error, retryAfterMs: 1500 }
    const step = transition('connecting', ended(end), fixedToken)!
    expect(step).toMatchObject({ to: 'reconnecting', error, retryAfterMs: 1500 })
    expect(step.effects).toContain('rejectConnect')
  })

  it('a refused upgrade that is not retryable (HTTP 401, 403) is terminal', () => {
    const error = new SwitchboardError('PERMISSION_DENIED', 'HTTP 403')
    expect(kind({ code: CloseCode.ABNORMAL, reason: '', error })).toBe('terminal')
  })

  it('penalties while connected are reported, then the client reconnects with backoff', () => {
    for (const code of [CloseCode.SLOW_CONSUMER, CloseCode.RATE_LIMITED]) {
      const step = transition('connected', ended({ code, reason: '' }), fixedToken)!
      expect(step.to).toBe('reconnecting')
      expect(step.effects).toEqual(['closeTransport', 'failInFlight', 'reportError', 'scheduleRetry'])
    }
  })

  it('a hello refused as expired (token function) is reported and backs off instead of hammering', () => {
    const error = new SwitchboardError('TOKEN_EXPIRED', 'token expired')
    expect(kind({ code: CloseCode.TOKEN_EXPIRED, reason: '', error }, true)).toBe('refused')
  })
})
