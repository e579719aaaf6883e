import {
  CloseCode,
  type ClientMessage,
  type RefreshReply,
  type ServerLimits,
  type ServerMessage,
  type ServerPush,
  type ServerPushType,
  type WelcomeMessage,
} from '@switchboard/protocol'
import { Emitter } from '../emitter.js'
import { SwitchboardError } from '../errors.js'
import type { TransportName } from '../transport/names.js'
import { Attempt, type AttemptEvents, type NamedTransport } from './attempt.js'
import { Backoff } from './backoff.js'
import { announcedLimits, DEFAULT_LIMITS, encodeOutgoing } from './outgoing.js'
import { Outbox, type RequestBody } from './outbox.js'
import { transition, type ConnectionEvent, type ConnectionState, type Effect, type Step } from './state-machine.js'
import { TokenRefresher } from './token-refresh.js'
import { webSocketProbe, type WebSocketProbe } from './websocket-probe.js'

export type { RequestBody } from './outbox.js'
/** Messages that are not requests (no id, no answer), e.g. a provider's answer to an invocation. */
export type Notification = Exclude<ClientMessage, { id: number } | { t: 'ping' | 'pong' }>

export interface RequestOptions {
  /** Queue while disconnected (bounded) instead of failing with DISCONNECTED. */
  queue?: boolean
  timeoutMs?: number
  /**
   * Idempotent (a publish with its id): when the connection drops before the answer, send it
   * again on the next connection instead of failing with DISCONNECTED.
   */
  resend?: boolean
}

export interface ConnectionOptions {
  urls: string[]
  token?: string | (() => Promise<string>)
  /** In the order to try them. */
  transports: NamedTransport[]
  /** A transport that does not open within this is given up for the next one. */
  transportTimeoutMs: number
  /** On a fallback transport, WebSocket is tried again in the background this often. */
  probeIntervalMs: number
  minDelayMs: number
  maxDelayMs: number
  offlineQueueLimit: number
  agent: string
}

/** Server pushes that are not answers to requests, handed to the concept that owns them. */
export type PushHandlers = { [K in ServerPushType]?: (m: Extract<ServerPush, { t: K }>) => void }

export interface ConnectionEvents extends Record<string, unknown> {
  state: ConnectionState
  error: SwitchboardError
  transport: TransportName
}

/** What a restore callback is told: after a new connection, or after a switch of transport. */
export type RestoreReason = 'reconnect' | 'switch'

/**
 * One logical connection across many transport attempts over time: reconnects with backoff and
 * URL failover, token refresh, request/response matching and the offline queue. The table in
 * state-machine.ts decides every transition, including whether to reconnect; this class only
 * runs the effects it names.
 */
export class Connection extends Emitter<ConnectionEvents> {
  state: ConnectionState = 'idle'
  user: Record<string, unknown> | null = null
  clientId: string | null = null
  readonly push: PushHandlers = {}
  /** What the server refuses (from its welcome): requests over them fail here, before sending. */
  limits: Partial<ServerLimits> = DEFAULT_LIMITS

  #attempt: Attempt | undefined
  #urlIndex = 0
  readonly #outbox: Outbox
  readonly #backoff: Backoff
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  /** Refreshes the token before it expires; only when `options.token` is a function. */
  readonly #refresher: TokenRefresher | undefined
  #connectWaiters: { resolve(): void; reject(e: SwitchboardError): void }[] = []
  readonly #restorers: ((reason: RestoreReason) => void)[] = []
  /** Events not yet handled, oldest first (see `fire`). */
  readonly #pendingEvents: ConnectionEvent[] = []
  /** The transport that last worked: tried first next time. */
  #preferred: TransportName | undefined
  readonly #probe: WebSocketProbe
  /** Probed for in the background while the connection is on a fallback. */
  readonly #websocket: NamedTransport | undefined

  constructor(private readonly options: ConnectionOptions) {
    super()
    this.#websocket = options.transports.find((t) => t.name === 'websocket')
    this.#probe = webSocketProbe(options.probeIntervalMs, {
      launch: (events) => this.#startAttempt([this.#websocket as NamedTransport], events),
      unanswered: () => this.#outbox.unanswered,
      handOver: () => this.#fire({ type: 'switch' }),
      release: () => this.#outbox.flush(),
      adopted: this.#attemptEvents(),
    })
    this.#backoff = new Backoff(options.minDelayMs, options.maxDelayMs)
    this.#outbox = new Outbox(
      options.offlineQueueLimit,
      (frame) => this.#attempt?.send(frame),
      (message) => encodeOutgoing(message, this.limits),
    )
    const fetchToken = options.token
    if (typeof fetchToken === 'function') {
      this.#refresher = new TokenRefresher({
        fetchToken,
        sendRefresh: async (token) =>
          (await this.request<RefreshReply>({ t: 'refresh', token }, { timeoutMs: 10_000 })).user,
        onRefreshed: (user) => (this.user = user),
        onError: (err) =>
          this.emit(
            'error',
            err instanceof SwitchboardError
              ? err
              : new SwitchboardError('AUTH_FAILED', `token refresh failed: ${(err as Error)?.message ?? err}`),
          ),
      })
    }
  }

  /**
   * Resolves once connected. Rejects when the server refuses the connection: for good (e.g.
   * AUTH_FAILED, the client stops) or for now (e.g. RATE_LIMITED, it keeps retrying).
   */
  connect(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve()
    const done = new Promise<void>((resolve, reject) => this.#connectWaiters.push({ resolve, reject }))
    this.#fire({ type: 'connect' })
    return done
  }

  async close(): Promise<void> {
    this.#fire({ type: 'close' })
  }

  /** The transport carrying the session now, or null when not connected. */
  get transport(): TransportName | null {
    return (this.state === 'connected' && this.#attempt?.transportName) || null
  }

  /** Registers state to re-send after every (re)connect or transport switch, before queued operations. */
  onRestore(restore: (reason: RestoreReason) => void): void {
    this.#restorers.push(restore)
  }

  request<R>(body: RequestBody, options: RequestOptions = {}): Promise<R> {
    if (this.state === 'connected') {
      // While handing over to a new transport, requests wait for the new session.
      return this.#probe.holding ? this.#outbox.enqueue<R>(body, options) : this.#outbox.send<R>(body, options)
    }
    if (this.state === 'closed') return Promise.reject(new SwitchboardError('CLOSED', 'the client is closed'))
    if (!options.queue) return Promise.reject(new SwitchboardError('DISCONNECTED', 'not connected'))
    return this.#outbox.enqueue<R>(body, options)
  }

  /**
   * Sends a message that gets no answer; dropped (returns false) unless connected. Throws a
   * SwitchboardError when the server would refuse it (see encodeOutgoing).
   */
  notify(message: Notification): boolean {
    if (this.state !== 'connected' || !this.#attempt) return false
    this.#attempt.send(encodeOutgoing(message, this.limits))
    return true
  }

  /**
   * Run to completion: an event raised while a transition's effects run (a transport closing
   * inside a send) waits for them to finish, so effects never see a state they did not plan for.
   */
  #fire(event: ConnectionEvent): void {
    this.#pendingEvents.push(event)
    if (this.#pendingEvents.length > 1) return // the loop below, further up the stack, takes it
    while (this.#pendingEvents.length > 0) {
      try {
        this.#step(this.#pendingEvents[0] as ConnectionEvent)
      } catch (err) {
        // A bug in an effect must not wedge the machine: surface it, go on with the next event.
        setTimeout(() => {
          throw err
        })
      } finally {
        this.#pendingEvents.shift()
      }
    }
  }

  #step(event: ConnectionEvent): void {
    // A switch queued behind other events may find its probe gone.
    if (event.type === 'switch' && !this.#probe.holding) return
    const step = transition(this.state, event, { renewableToken: typeof this.options.token === 'function' })
    if (!step) return
    const previous = this.state
    this.state = step.to
    for (const effect of step.effects) this.#run(effect, step)
    if (previous !== step.to) this.emit('state', step.to)
  }

  #run(effect: Effect, step: Step): void {
    switch (effect) {
      case 'openTransport':
        return this.#open()
      case 'closeTransport':
        this.#probe.cancel()
        this.#refresher?.stop()
        this.#attempt?.abandon(CloseCode.NORMAL, 'client closed')
        this.#attempt = undefined
        return
      case 'scheduleRetry':
        // After the server's Retry-After, if it gave one; the jittered backoff on top spreads a
        // crowd of refused clients instead of sending them all back at the same instant.
        return this.#retryAfter((step.retryAfterMs ?? 0) + this.#backoff.next())
      case 'retrySoon':
        return this.#retryAfter(step.retryAfterMs ?? 0, true)
      case 'cancelRetry':
        return clearTimeout(this.#retryTimer)
      case 'resetBackoff':
        return this.#backoff.reset()
      case 'restore':
        for (const restore of this.#restorers) restore('reconnect')
        return
      case 'resume':
        for (const restore of this.#restorers) restore('switch')
        return
      case 'adopt': {
        const { attempt, welcome } = this.#probe.adopt() as NonNullable<ReturnType<WebSocketProbe['adopt']>>
        this.#attempt?.abandon(CloseCode.NORMAL, 'switched')
        this.#attempt = attempt
        return this.#welcomed(welcome)
      }
      case 'announce': {
        const name = (this.#preferred = this.#attempt?.transportName as TransportName)
        if (name !== 'websocket' && this.#websocket) this.#probe.schedule()
        return this.emit('transport', name)
      }
      case 'flushQueue':
        return this.#outbox.flush()
      case 'failInFlight':
        return this.#outbox.failInFlight(
          new SwitchboardError('DISCONNECTED', 'the connection dropped before an answer arrived'),
        )
      case 'failQueued':
        return this.#outbox.failQueued(step.error ?? new SwitchboardError('CLOSED', 'the client is closed'))
      case 'reportError':
        if (step.error) this.emit('error', step.error)
        return
      case 'rejectConnect':
        for (const w of this.#connectWaiters.splice(0)) w.reject(step.error ?? closed())
        return
      case 'settleConnect':
        for (const w of this.#connectWaiters.splice(0)) {
          if (this.state === 'connected') w.resolve()
          else w.reject(step.error ?? closed())
        }
    }
  }

  /**
   * The next attempt tries the next URL; after a failover (a draining node) any other URL at
   * random, so a draining node's clients spread over all the other nodes instead of all landing
   * on the one after it in their lists (with three nodes, half the arrivals per node).
   */
  #retryAfter(delayMs: number, elsewhere = false): void {
    const n = this.options.urls.length
    this.#urlIndex += elsewhere && n > 2 ? 1 + Math.floor(Math.random() * (n - 1)) : 1
    this.#retryTimer = setTimeout(() => this.#fire({ type: 'retry' }), delayMs)
  }

  #open(): void {
    // The transport that worked last time first, then the others in the configured order.
    const first = (t: NamedTransport) => (t.name === this.#preferred ? 0 : 1)
    this.#attempt = this.#startAttempt(
      [...this.options.transports].sort((a, b) => first(a) - first(b)),
      this.#attemptEvents(),
    )
  }

  #startAttempt(transports: NamedTransport[], events: AttemptEvents): Attempt {
    const { urls } = this.options
    const attempt = new Attempt(this.options, urls[this.#urlIndex % urls.length] as string, transports, events)
    void attempt.start()
    return attempt
  }

  /** The connection's handlers for the events of its current attempt. */
  #attemptEvents(): AttemptEvents {
    return {
      onWelcome: (welcome) => {
        this.#welcomed(welcome)
        this.#fire({ type: 'welcome' })
      },
      onMessage: (m) => this.#onMessage(m),
      onInvalidFrame: (error) => this.emit('error', error),
      onEnd: (end) => this.#fire({ type: 'ended', ...end }),
    }
  }

  /** What a welcome tells about the session (its own, or a probe's when switching to it). */
  #welcomed(welcome: WelcomeMessage): void {
    this.user = welcome.user
    this.clientId = welcome.client
    this.limits = announcedLimits(welcome.limits)
    this.#refresher?.start(this.#attempt?.token)
  }

  #onMessage(m: ServerMessage): void {
    switch (m.t) {
      case 'ok':
        this.#outbox.settle(m.id, m.r)
        return this.#probe.answered()
      case 'err': {
        const error = SwitchboardError.from(m.code, m.msg, m.data)
        if (m.id === undefined || !this.#outbox.settle(m.id, undefined, error)) this.emit('error', error)
        return this.#probe.answered()
      }
      default:
        ;(this.push[m.t] as ((m: ServerPush) => void) | undefined)?.(m)
    }
  }
}

const closed = () => new SwitchboardError('CLOSED', 'the client is closed')
