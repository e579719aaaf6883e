import {
  CloseCode,
  jsonCodec,
  PROTOCOL_VERSION,
  type ClientMessage,
  type Codec,
  type ErrorCode,
  type HelloMessage,
  type ServerMessage,
} from '@switchboard/protocol'
import type { AuthResult, AuthUser, Credentials } from '../auth/authenticator.js'
import { SwitchboardError, toSwitchboardError } from '../errors.js'
import { EncodedFrame, type Transport, type TransportSink } from '../transports/transport.js'
import type { Flushable } from './flush-scheduler.js'
import { TokenBucket } from '../limits/token-bucket.js'
import { idFromHead } from './frame-head.js'
import type { SessionHost } from './session-host.js'
import { welcomeText } from './welcome.js'

type Phase = 'handshake' | 'authenticating' | 'open' | 'closed'

/** Batches bigger than this leave as several frames, so one frame never monopolises a socket. */
const MAX_BATCH_CHARS = 64 * 1024
/** Abuse budget: this many invalid messages within STRIKE_WINDOW_MS closes the connection. */
const MAX_STRIKES = 10
const STRIKE_WINDOW_MS = 10_000
/** Messages waiting behind an async handler; a peer that outruns this is flooding. */
const MAX_INBOUND_QUEUE = 10_000
const codec: Codec = jsonCodec
/** A pong as clients encode it (`{"t":"pong"}`); other spellings take the general path. */
const PONG_FRAME = '{"t":"pong"}'

/**
 * A hello's credentials. The peer address is read only if the authenticator asks: a WebSocket's
 * costs a syscall. A class with the getter on its prototype, because an object literal with a
 * getter is built by a runtime call and a closure each time (~1 µs, on every connect).
 */
class HelloCredentials implements Credentials {
  readonly #transport: Transport
  constructor(
    readonly token: string | undefined,
    transport: Transport,
  ) {
    this.#transport = transport
  }

  get remoteAddress(): string {
    return this.#transport.remoteAddress
  }
}

/** A frame that failed before it became a message; queued so its error keeps arrival order. */
class Rejection {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
    /** The refused request's id, when the frame's head names one. */
    readonly id: number | undefined,
  ) {}
}

/**
 * One client connection, independent of its transport: the wire only (inbound queue, outbound
 * flush, heartbeat bookkeeping, close). What a concept holds for a session lives in that
 * concept's service, keyed by the session. Inbound messages are handled strictly
 * in arrival order (a handler that returns a promise holds the queue until it settles);
 * outbound frames are queued and flushed once per event-loop turn, batched when several wait.
 */
export class Session implements TransportSink, Flushable {
  phase: Phase = 'handshake'
  user: AuthUser | null = null
  /** Times from the host's clock (`host.now()`), which the registry's sweep compares them with. */
  readonly createdAt: number
  lastReceivedAt: number
  lastSentAt: number
  /** When the registry's sweep last pinged it (at most one ping per interval to a silent peer). */
  pingedAt: number | undefined = undefined
  /**
   * How much sooner than a full interval its first ping may come (set by the registry): the
   * connections of one reconnect wave are then pinged, and answer, spread over an interval.
   */
  firstPingEarlyMs = 0
  /** When the credentials expire (epoch ms): the registry's sweep closes the session with TOKEN_EXPIRED then, unless a `refresh` moved it. */
  tokenExpiresAt: number | undefined
  /** At `tokenExpiresAt` the credentials are to be checked again, not dead (AuthResult.expiry). */
  recheckAtExpiry = false
  /** The handshake completed (welcome sent, `sessionOpened` called); stays true once closed. */
  welcomed = false

  // Outbound queue. Most turns queue one frame per session, so the first waits in a field of its
  // own and only later ones go to the array (made on first use, kept and reused after): no array
  // growth or truncation per delivery, and none at all for a session that never batches.
  private pendingFirst: EncodedFrame | undefined
  private pendingMore: EncodedFrame[] | undefined
  private pendingChars = 0
  /** What the transport still held right after the last flush (it only drains until the next). */
  private bufferedAtFlush = 0
  /** limits.maxBufferedBytes, read once: checked on every enqueue and flush. */
  private readonly maxBufferedBytes: number
  private inbound: unknown[] | undefined
  private busy = false
  private strikes = 0
  private strikeWindowStart = 0
  private rateLimitedInWindow = 0
  private readonly bucket: TokenBucket

  constructor(
    readonly id: string,
    readonly transport: Transport,
    private readonly host: SessionHost,
  ) {
    this.createdAt = this.lastReceivedAt = this.lastSentAt = host.now()
    const { messagesPerSecond, messagesBurst, maxBufferedBytes } = host.config.limits
    this.maxBufferedBytes = maxBufferedBytes
    this.bucket = new TokenBucket(messagesPerSecond, messagesBurst, this.createdAt)
  }

  get isOpen(): boolean {
    return this.phase === 'open'
  }

  // ---- inbound ----------------------------------------------------------------------

  onHeard(): void {
    if (this.phase !== 'closed') this.lastReceivedAt = this.host.now()
  }

  onFrame(text: string): void {
    if (this.phase === 'closed') return
    const now = this.host.now()
    this.lastReceivedAt = now
    const { maxMessageBytes } = this.host.config.limits
    if (
      text.length > maxMessageBytes ||
      (text.length * 3 > maxMessageBytes && Buffer.byteLength(text) > maxMessageBytes)
    ) {
      const reason = `frame exceeds maxMessageBytes (${maxMessageBytes})`
      this.receive(new Rejection('TOO_LARGE', reason, idFromHead(text)), now)
      return
    }
    // The heartbeat answer, most of what an idle connection sends: no parse, no validation.
    if (text === PONG_FRAME) {
      if (!this.bucket.take(now)) this.rateLimited(null)
      return
    }
    let decoded: unknown
    try {
      decoded = codec.decode(text)
    } catch {
      this.receive(new Rejection('INVALID_MESSAGE', 'frame is not valid JSON', idFromHead(text)), now)
      return
    }
    if (!Array.isArray(decoded)) this.receive(decoded, now)
    else if (decoded.length > 1000)
      this.receive(new Rejection('INVALID_MESSAGE', 'batch has more than 1000 messages', undefined), now)
    else for (const item of decoded) this.receive(item, now)
  }

  /** Rate-limits at arrival; everything else (even rejections) waits its turn in the queue. */
  private receive(value: unknown, now: number): void {
    if (this.phase === 'closed') return
    if (!this.bucket.take(now)) {
      this.rateLimited(value)
      return
    }
    if (this.busy) {
      const queue = (this.inbound ??= [])
      if (queue.length >= MAX_INBOUND_QUEUE) {
        this.close(CloseCode.RATE_LIMITED, 'inbound queue overflow')
        return
      }
      queue.push(value)
      return
    }
    this.process(value)
  }

  private process(value: unknown): void {
    if (value instanceof Rejection) {
      this.reject(value.id, value.code, value.reason)
      return
    }
    const checked = this.host.validator.check(value)
    if (!checked.ok) {
      this.reject(checked.id, 'INVALID_MESSAGE', checked.reason)
      return
    }
    const message = checked.message
    if (message.t === 'pong') return
    let result: void | Promise<void>
    try {
      result = this.phase === 'open' ? this.host.dispatch(this, message) : this.handshake(message)
    } catch (err) {
      this.fail(message, err)
      return
    }
    if (result) {
      this.busy = true
      result.then((this.resumer ??= () => this.resume()), (err: unknown) => {
        this.fail(message, err)
        this.resume()
      })
    }
  }

  /** `resume` as a callback, made on the first async handler: most connections never need one. */
  private resumer: (() => void) | undefined

  private resume(): void {
    this.busy = false
    const queue = this.inbound
    while (queue && queue.length > 0 && !this.busy && this.phase !== 'closed') {
      this.process(queue.shift())
    }
  }

  /** A handler threw: answer the request with its code; unexpected errors are logged, not leaked. */
  private fail(message: ClientMessage, err: unknown): void {
    const e = toSwitchboardError(err)
    if (e.code === 'INTERNAL') this.host.log.error({ err, client: this.id, t: message.t }, 'handler failed')
    this.sendError('id' in message ? message.id : undefined, e.code, e.message, e.data)
  }

  private handshake(message: ClientMessage): void | Promise<void> {
    if (message.t === 'ping') return this.send({ t: 'pong' })
    if (this.phase !== 'handshake' || message.t !== 'hello') {
      this.reject('id' in message ? message.id : undefined, 'NOT_CONNECTED', 'send hello first')
      return
    }
    if (message.v !== PROTOCOL_VERSION) {
      this.sendError(
        message.id,
        'UNSUPPORTED_VERSION',
        `protocol version ${message.v} is not supported (use ${PROTOCOL_VERSION})`,
      )
      this.close(CloseCode.UNSUPPORTED_VERSION, 'unsupported protocol version')
      return
    }
    this.phase = 'authenticating'
    return this.authenticate(message)
  }

  /**
   * Synchronous when the authenticator answers at once (anonymous): the welcome is written in
   * this turn and no promise holds the inbound queue. Otherwise the queue waits for the answer.
   */
  private authenticate(hello: HelloMessage): void | Promise<void> {
    let answer: AuthResult | Promise<AuthResult>
    try {
      answer = this.host.authenticator.authenticate(new HelloCredentials(hello.token, this.transport))
    } catch (err) {
      this.refuse(hello, err)
      return
    }
    if (!(answer instanceof Promise)) return this.open(hello, answer)
    return answer.then(
      (result) => this.open(hello, result),
      (err: unknown) => this.refuse(hello, err),
    )
  }

  private refuse(hello: HelloMessage, err: unknown): void {
    const e = err instanceof SwitchboardError ? err : new SwitchboardError('AUTH_FAILED', 'authentication failed')
    this.sendError(hello.id, e.code, e.message)
    this.close(e.code === 'TOKEN_EXPIRED' ? CloseCode.TOKEN_EXPIRED : CloseCode.AUTH_FAILED, e.message)
  }

  private open(hello: HelloMessage, result: AuthResult): void {
    if (this.phase === 'closed') return
    const user = result.user
    this.tokenExpiresAt = result.expiresAt
    this.recheckAtExpiry = result.expiry === 'recheck'
    this.user = user
    this.phase = 'open'
    this.welcomed = true
    const welcome = new EncodedFrame(welcomeText(hello.id, this.id, user, this.host.config))
    if (this.pendingFirst !== undefined) {
      // Answers to frames before the hello wait for the end of the turn: the welcome goes behind them.
      this.enqueue(welcome)
      this.host.sessionOpened?.(this)
      return
    }
    // The welcome leaves in this turn, with what the open hooks queue behind it (one write, as the
    // end-of-turn flush would make): a connect does not wait for, nor pay for, a flush turn.
    this.pendingFirst = welcome
    this.pendingChars = welcome.size
    try {
      this.host.sessionOpened?.(this)
    } finally {
      this.flush() // also if a hook threw: nothing else would schedule this session's flush
    }
  }

  private rateLimited(value: unknown): void {
    const now = this.host.now()
    this.rollStrikeWindow(now)
    this.rateLimitedInWindow++
    if (this.rateLimitedInWindow > this.host.config.limits.messagesBurst) {
      this.close(CloseCode.RATE_LIMITED, 'sustained message flood')
      return
    }
    const id = (value as { id?: unknown } | null)?.id
    this.sendError(Number.isSafeInteger(id) ? (id as number) : undefined, 'RATE_LIMITED', 'message rate limit exceeded')
  }

  /** Answers a bad message and counts a strike; repeated abuse closes the connection. */
  private reject(id: number | undefined, code: ErrorCode, reason: string): void {
    this.sendError(id, code, reason)
    this.rollStrikeWindow(this.host.now())
    if (++this.strikes > MAX_STRIKES) this.close(CloseCode.PROTOCOL_ERROR, 'too many invalid messages')
  }

  private rollStrikeWindow(now: number): void {
    if (now - this.strikeWindowStart > STRIKE_WINDOW_MS) {
      this.strikeWindowStart = now
      this.strikes = 0
      this.rateLimitedInWindow = 0
    }
  }

  // ---- outbound ---------------------------------------------------------------------

  send(message: ServerMessage): void {
    this.enqueue(new EncodedFrame(codec.encode(message) as string))
  }

  sendError(id: number | undefined, code: ErrorCode, msg: string, data?: unknown): void {
    const m: ServerMessage = { t: 'err', code, msg }
    if (id !== undefined) m.id = id
    if (data !== undefined) m.data = data
    this.send(m)
  }

  /** Bytes waiting to leave: queued here plus buffered by the transport (what maxBufferedBytes bounds). */
  outboundBytes(): number {
    return this.pendingChars + this.transport.bufferedBytes()
  }

  /**
   * `outboundBytes` as of the last flush plus what was queued since: an upper bound that costs
   * no look into the transport, for checks made once per delivery (record fan-out).
   */
  backlogBytes(): number {
    return this.pendingChars + this.bufferedAtFlush
  }

  /** Queues a frame that may be shared with other sessions (encode once, send many). */
  enqueue(frame: EncodedFrame): void {
    if (this.phase === 'closed') return
    if (this.pendingFirst === undefined) {
      this.pendingFirst = frame
      this.host.scheduler.schedule(this)
    } else {
      ;(this.pendingMore ??= []).push(frame)
    }
    this.pendingChars += frame.size
    if (this.pendingChars > this.maxBufferedBytes) this.slowConsumer()
  }

  flush(now: number = this.host.now()): void {
    const first = this.pendingFirst
    if (first === undefined || this.phase === 'closed') return
    this.pendingFirst = undefined
    this.pendingChars = 0
    if (this.pendingMore === undefined || this.pendingMore.length === 0) {
      this.transport.send(first)
      this.host.counters.framesSent++
    } else {
      this.sendBatched(first)
    }
    this.lastSentAt = now
    const buffered = (this.bufferedAtFlush = this.transport.bufferedBytes())
    if (buffered > this.maxBufferedBytes) this.slowConsumer()
  }

  /**
   * Several frames waited: they leave as array frames of at most MAX_BATCH_CHARS each. A batch
   * that another session of this turn already built from the same frames is reused.
   */
  private sendBatched(first: EncodedFrame): void {
    const more = this.pendingMore as EncodedFrame[]
    const batches = this.host.scheduler.batches
    const shared = batches.find(first, more)
    if (shared !== undefined) {
      more.length = 0
      this.transport.send(shared)
      this.host.counters.framesSent++
      return
    }
    const texts = [first.text]
    let chars = first.text.length
    let whole = true
    for (let i = 0; i < more.length; i++) {
      const text = (more[i] as EncodedFrame).text
      if (chars + text.length > MAX_BATCH_CHARS) {
        whole = false
        this.host.counters.framesSent++
        this.transport.send(
          texts.length === 1 ? new EncodedFrame(texts[0] as string) : new EncodedFrame(codec.batch(texts)),
        )
        texts.length = 0
        chars = 0
      }
      texts.push(text)
      chars += text.length
    }
    const last = more[more.length - 1] as EncodedFrame
    const frame = texts.length === 1 ? last : new EncodedFrame(codec.batch(texts))
    if (whole) batches.remember(first, more, frame)
    more.length = 0
    this.transport.send(frame)
    this.host.counters.framesSent++
  }

  private dropPending(): void {
    this.pendingFirst = undefined
    if (this.pendingMore) this.pendingMore.length = 0
    this.pendingChars = 0
  }

  private slowConsumer(): void {
    this.host.log.warn({ client: this.id }, 'closing slow consumer')
    this.dropPending()
    this.close(CloseCode.SLOW_CONSUMER, 'slow consumer: outbound buffer exceeded maxBufferedBytes')
  }

  // ---- lifecycle --------------------------------------------------------------------

  /** Flushes what is queued (so a final error reaches the peer), then closes the transport. */
  close(code: number, reason: string): void {
    if (this.phase === 'closed') return
    this.flush()
    this.markClosed(code, reason)
    this.transport.close(code, reason)
  }

  onClose(code: number, reason: string): void {
    this.markClosed(code, reason)
  }

  private markClosed(code: number, reason: string): void {
    if (this.phase === 'closed') return
    this.phase = 'closed'
    this.dropPending()
    this.inbound = undefined
    this.host.sessionClosed(this, code, reason)
  }
}
