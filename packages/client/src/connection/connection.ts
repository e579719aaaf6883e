import {
  closeCodeInfo,
  PROTOCOL_VERSION,
  type ClientMessage,
  type RefreshReply,
  type ServerLimits,
  type ServerMessage,
  type ServerPush,
  type ServerPushType,
} from '@switchboard/protocol'
import { Emitter } from '../emitter.js'
import { SwitchboardError } from '../errors.js'
import type { ClientTransport, TransportFactory } from '../transport/transport.js'
import { Backoff } from './backoff.js'
import { announcedLimits, DEFAULT_LIMITS, encodeOutgoing } from './outgoing.js'
import { transition, type ConnectionEvent, type ConnectionState, type Effect } from './state-machine.js'
import { TokenRefresher } from './token-refresh.js'

type Request = Exclude<Extract<ClientMessage, { id: number }>, { t: 'hello' }>
/** A request as callers write it: the connection assigns the id. */
export type RequestBody = Request extends infer M ? (M extends Request ? Omit<M, 'id'> : never) : never
/** Messages that are not requests (no id, no answer), e.g. a provider's answer to an invocation. */
export type Notification = Exclude<ClientMessage, { id: number } | { t: 'ping' | 'pong' }>

export interface RequestOptions {
  /** Queue while disconnected (bounded) instead of failing with DISCONNECTED. */
  queue?: boolean
  timeoutMs?: number
}

export interface ConnectionOptions {
  urls: string[]
  token?: string | (() => Promise<string>)
  transport: TransportFactory
  minDelayMs: number
  maxDelayMs: number
  offlineQueueLimit: number
  agent: string
}

interface Pending {
  resolve(value: unknown): void
  reject(error: SwitchboardError): void
  timer?: ReturnType<typeof setTimeout>
}
interface Queued extends Pending {
  body: RequestBody
  timeoutMs?: number
}

/** Server pushes that are not answers to requests, handed to the concept that owns them. */
export type PushHandlers = { [K in ServerPushType]?: (m: Extract<ServerPush, { t: K }>) => void }

export interface ConnectionEvents extends Record<string, unknown> {
  state: ConnectionState
  error: SwitchboardError
}

/**
 * One logical connection across many transports over time: handshake, heartbeats, reconnect
 * with backoff and URL failover, request/response matching and the offline queue. State
 * changes come only from the table in state-machine.ts.
 */
export class Connection extends Emitter<ConnectionEvents> {
  state: ConnectionState = 'idle'
  user: Record<string, unknown> | null = null
  clientId: string | null = null
  /** What the server refuses (from its welcome): requests over them fail here, before sending. */
  limits: Partial<ServerLimits> = DEFAULT_LIMITS

  private transport: ClientTransport | undefined
  private attempt = 0
  private urlIndex = 0
  private nextId = 1
  private helloId = -1
  private readonly inFlight = new Map<number, Pending>()
  private readonly queue: Queued[] = []
  private readonly backoff: Backoff
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined
  private lastReceivedAt = 0
  private heartbeatTimeoutMs = 30_000
  private lastError: SwitchboardError | undefined
  private retryImmediately = false
  /** The token this connection authenticated with (or last refreshed to). */
  private token: string | undefined
  /** Refreshes the token before it expires; only when `options.token` is a function. */
  private readonly refresher: TokenRefresher | undefined
  private connectWaiters: { resolve(): void; reject(e: SwitchboardError): void }[] = []
  private readonly restorers: (() => void)[] = []
  readonly push: PushHandlers = {}

  constructor(private readonly options: ConnectionOptions) {
    super()
    this.backoff = new Backoff(options.minDelayMs, options.maxDelayMs)
    const fetchToken = options.token
    if (typeof fetchToken === 'function') {
      this.refresher = new TokenRefresher({
        fetchToken,
        sendRefresh: async (token) => {
          const r = await this.request<RefreshReply>({ t: 'refresh', token }, { timeoutMs: 10_000 })
          this.token = token
          return r.user
        },
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

  connect(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve()
    const done = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }))
    this.fire('connect')
    return done
  }

  async close(): Promise<void> {
    this.lastError = new SwitchboardError('CLOSED', 'the client was closed')
    this.fire('close')
  }

  /** Registers state to re-send after every (re)connect, before queued operations. */
  onRestore(restore: () => void): void {
    this.restorers.push(restore)
  }

  request<R>(body: RequestBody, options: RequestOptions = {}): Promise<R> {
    if (this.state === 'connected') return this.send<R>(body, options.timeoutMs)
    if (this.state === 'closed') return Promise.reject(new SwitchboardError('CLOSED', 'the client is closed'))
    if (!options.queue) return Promise.reject(new SwitchboardError('DISCONNECTED', 'not connected'))
    if (this.queue.length >= this.options.offlineQueueLimit) {
      return Promise.reject(
        new SwitchboardError('QUEUE_FULL', `offline queue is full (${this.options.offlineQueueLimit} operations)`),
      )
    }
    return new Promise<R>((resolve, reject) => {
      const q: Queued = { body, resolve: resolve as (v: unknown) => void, reject }
      if (options.timeoutMs !== undefined) q.timeoutMs = options.timeoutMs
      this.queue.push(q)
    })
  }

  /**
   * Sends a message that gets no answer; dropped (returns false) unless connected. Throws a
   * SwitchboardError when the server would refuse it (see encodeOutgoing).
   */
  notify(message: Notification): boolean {
    if (this.state !== 'connected' || !this.transport) return false
    this.transport.send(encodeOutgoing(message, this.limits))
    return true
  }

  private send<R>(body: RequestBody, timeoutMs?: number): Promise<R> {
    return new Promise<R>((resolve, reject) =>
      this.sendPending(body, { resolve: resolve as (v: unknown) => void, reject }, timeoutMs),
    )
  }

  private sendPending(body: RequestBody, pending: Pending, timeoutMs?: number): void {
    const id = this.nextId++
    let frame: string
    try {
      // Type and id first: a server that refuses the frame unparsed still finds the id in its head.
      frame = encodeOutgoing(Object.assign({ t: body.t, id }, body), this.limits)
    } catch (err) {
      clearTimeout(pending.timer)
      pending.reject(err as SwitchboardError)
      return
    }
    if (timeoutMs !== undefined) {
      pending.timer = setTimeout(() => {
        this.inFlight.delete(id)
        pending.reject(new SwitchboardError('TIMEOUT', `no answer within ${timeoutMs} ms`))
      }, timeoutMs)
    }
    this.inFlight.set(id, pending)
    this.transport?.send(frame)
  }

  // ---- state machine ---------------------------------------------------------------------

  private fire(event: ConnectionEvent): void {
    const t = transition(this.state, event)
    if (!t) return
    const previous = this.state
    this.state = t.to
    for (const effect of t.effects) this.run(effect)
    if (previous !== t.to) this.emit('state', t.to)
  }

  private run(effect: Effect): void {
    switch (effect) {
      case 'openTransport':
        void this.openTransport()
        break
      case 'scheduleRetry': {
        this.stopHeartbeat()
        this.urlIndex++
        const delay = this.retryImmediately ? 0 : this.backoff.next()
        this.retryImmediately = false
        this.retryTimer = setTimeout(() => this.fire('retry'), delay)
        break
      }
      case 'cancelRetry':
        clearTimeout(this.retryTimer)
        break
      case 'resetBackoff':
        this.backoff.reset()
        break
      case 'restore':
        for (const restore of this.restorers) restore()
        break
      case 'flushQueue':
        for (const q of this.queue.splice(0)) this.sendPending(q.body, q, q.timeoutMs)
        break
      case 'failInFlight':
        for (const p of this.inFlight.values()) {
          clearTimeout(p.timer)
          p.reject(new SwitchboardError('DISCONNECTED', 'the connection dropped before an answer arrived'))
        }
        this.inFlight.clear()
        break
      case 'failQueued': {
        const error = this.lastError ?? new SwitchboardError('CLOSED', 'the client is closed')
        for (const q of this.queue.splice(0)) q.reject(error)
        break
      }
      case 'closeTransport':
        this.stopHeartbeat()
        this.refresher?.stop()
        this.attempt++ // events from the old transport are now stale
        this.transport?.close(1000, 'client closed')
        this.transport = undefined
        break
      case 'settleConnect': {
        const waiters = this.connectWaiters.splice(0)
        if (this.state === 'connected') for (const w of waiters) w.resolve()
        else for (const w of waiters) w.reject(this.lastError ?? new SwitchboardError('CLOSED', 'the client is closed'))
        break
      }
    }
  }

  private async openTransport(): Promise<void> {
    const attempt = ++this.attempt
    const stale = () => attempt !== this.attempt
    let token: string | undefined
    try {
      token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token
    } catch (err) {
      if (stale()) return
      this.lastError = new SwitchboardError('AUTH_FAILED', `token function failed: ${(err as Error)?.message ?? err}`)
      this.fire('fatal')
      return
    }
    if (stale()) return
    this.token = token
    const urls = this.options.urls
    const url = urls[this.urlIndex % urls.length] as string
    this.lastError = undefined
    this.transport = this.options.transport(url, {
      onOpen: () => {
        if (stale()) return
        this.helloId = this.nextId++
        const hello: ClientMessage = { t: 'hello', id: this.helloId, v: PROTOCOL_VERSION, agent: this.options.agent }
        if (token !== undefined) hello.token = token
        this.lastReceivedAt = Date.now()
        this.transport?.send(JSON.stringify(hello))
      },
      onFrame: (frame) => {
        if (!stale()) this.onFrame(frame)
      },
      onClose: (code, reason) => {
        if (stale()) return
        this.transport = undefined
        this.stopHeartbeat()
        this.refresher?.stop()
        const policy = closeCodeInfo(code)
        // An expired static token can never succeed; a token function gets called again.
        const expiredForGood = this.lastError?.code === 'TOKEN_EXPIRED' && typeof this.options.token !== 'function'
        if (!policy.reconnect || this.lastError?.code === 'AUTH_FAILED' || expiredForGood) {
          this.lastError ??= new SwitchboardError(
            code === 4500 ? 'AUTH_FAILED' : 'DISCONNECTED',
            reason || policy.description,
          )
          this.emit('error', this.lastError)
          this.fire('fatal')
        } else {
          // 4004 after a session expired: reconnect at once; a hello refused as expired: back off.
          this.retryImmediately = policy.immediate === true && this.lastError?.code !== 'TOKEN_EXPIRED'
          this.fire('lost')
        }
      },
    })
  }

  // ---- inbound -----------------------------------------------------------------------------

  private onFrame(frame: string): void {
    this.lastReceivedAt = Date.now()
    let value: unknown
    try {
      value = JSON.parse(frame)
    } catch {
      this.emit('error', new SwitchboardError('INVALID_MESSAGE', 'the server sent a frame that is not JSON'))
      return
    }
    if (Array.isArray(value)) for (const m of value) this.onMessage(m as ServerMessage)
    else this.onMessage(value as ServerMessage)
  }

  private onMessage(m: ServerMessage): void {
    switch (m.t) {
      case 'ok':
        this.settle(m.id, m.r)
        return
      case 'err': {
        const error = SwitchboardError.from(m.code, m.msg, m.data)
        if (m.id === this.helloId) this.lastError = error
        else if (m.id !== undefined && this.inFlight.has(m.id)) this.settle(m.id, undefined, error)
        else this.emit('error', error)
        return
      }
      case 'welcome':
        if (m.id !== this.helloId) return
        this.user = m.user
        this.clientId = m.client
        this.limits = announcedLimits(m.limits)
        this.heartbeatTimeoutMs = m.hb.timeout
        this.startHeartbeat()
        this.refresher?.start(this.token)
        this.fire('welcome')
        return
      case 'ping':
        this.transport?.send('{"t":"pong"}')
        return
      case 'pong':
        return
      default:
        ;(this.push[m.t] as ((m: ServerPush) => void) | undefined)?.(m)
    }
  }

  private settle(id: number, result: unknown, error?: SwitchboardError): void {
    const pending = this.inFlight.get(id)
    if (!pending) return
    this.inFlight.delete(id)
    clearTimeout(pending.timer)
    if (error) pending.reject(error)
    else pending.resolve(result)
  }

  // ---- heartbeat ---------------------------------------------------------------------------

  /** The server pings when idle, so silence longer than its timeout means it is gone. */
  private startHeartbeat(): void {
    this.stopHeartbeat()
    const every = Math.max(50, Math.min(1000, Math.floor(this.heartbeatTimeoutMs / 4)))
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastReceivedAt > this.heartbeatTimeoutMs) {
        this.transport?.close(4001, 'no frame from the server within the heartbeat timeout')
      }
    }, every)
    ;(this.heartbeatTimer as { unref?: () => void }).unref?.()
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer)
    this.heartbeatTimer = undefined
  }
}
