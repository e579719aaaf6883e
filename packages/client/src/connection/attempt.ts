import {
  CloseCode,
  errorCodeForUpgradeStatus,
  PROTOCOL_VERSION,
  SwitchboardError,
  type ClientMessage,
  type ErrorMessage,
  type ServerMessage,
  type WelcomeMessage,
} from '@switchboard/protocol'
import type { ClientTransport, TransportFactory, UpgradeRefusal } from '../transport/transport.js'
import type { AttemptEnd } from './state-machine.js'
import { MAX_RETRY_AFTER_MS } from '../transport/upgrade-refusal.js'
import { SilenceWatchdog } from './watchdog.js'

/** The hello's request id; requests count from 1, so an answer with this id is the hello's. */
const HELLO_ID = 0

export interface AttemptOptions {
  url: string
  token: string | (() => Promise<string>) | undefined
  transport: TransportFactory
  agent: string
}

export interface AttemptEvents {
  /** The server accepted the hello. */
  onWelcome(welcome: WelcomeMessage): void
  /** Every other message, in order (answers, pushes, errors). */
  onMessage(message: ServerMessage): void
  /** A frame that is not a message: reported, the connection goes on. */
  onInvalidFrame(error: SwitchboardError): void
  /** Exactly once, unless the attempt was abandoned first. */
  onEnd(end: AttemptEnd): void
}

/**
 * One try at a session: fetch the token, open a transport, say hello, notice a silent server.
 * It ends once, with the close { code, reason } and the server's error when it gave one: an
 * `err` during the handshake (the hello's answer, or a refusal by a limit), or the HTTP status
 * of a refused upgrade.
 */
export class Attempt {
  /** The token this attempt authenticates with. */
  token: string | undefined
  private transport: ClientTransport | undefined
  /** handshake → welcomed → over; `over` also when abandoned, and then nothing is reported. */
  private phase: 'handshake' | 'welcomed' | 'over' = 'handshake'
  /** An `err` the server sent during the handshake: its answer to this attempt. */
  private refusal: ErrorMessage | undefined
  /** The `drain` message's hint: when to reconnect after the close that follows it. */
  private drainHintMs: number | undefined
  private readonly watchdog = new SilenceWatchdog(() =>
    this.transport?.close(CloseCode.HEARTBEAT_TIMEOUT, 'no frame from the server within the heartbeat timeout'),
  )

  constructor(
    private readonly options: AttemptOptions,
    private readonly events: AttemptEvents,
  ) {}

  async start(): Promise<void> {
    try {
      const { token } = this.options
      this.token = typeof token === 'function' ? await token() : token
    } catch (err) {
      const reason = `token function failed: ${(err as Error)?.message ?? err}`
      this.end({ code: CloseCode.AUTH_FAILED, reason, error: new SwitchboardError('AUTH_FAILED', reason) })
      return
    }
    if (this.phase === 'over') return
    try {
      this.transport = this.options.transport(this.options.url, {
        onOpen: () => this.hello(),
        onFrame: (frame) => this.onFrame(frame),
        onClose: (code, reason, refusal) =>
          this.end(refusal ? refusedUpgrade(code, reason, refusal) : this.ended(code, reason)),
      })
    } catch (err) {
      this.end({ code: CloseCode.ABNORMAL, reason: `the transport failed to open: ${(err as Error)?.message ?? err}` })
    }
  }

  send(frame: string): void {
    if (this.phase !== 'over') this.transport?.send(frame)
  }

  /** Closes without reporting an end: the connection has moved on. */
  abandon(code: number, reason: string): void {
    if (this.phase === 'over') return
    this.phase = 'over'
    this.watchdog.stop()
    this.transport?.close(code, reason)
  }

  private isOver(): boolean {
    return this.phase === 'over'
  }

  private end(end: AttemptEnd): void {
    if (this.phase === 'over') return
    this.phase = 'over'
    this.watchdog.stop()
    this.events.onEnd(end)
  }

  private ended(code: number, reason: string): AttemptEnd {
    // A draining node's hint (bounded like Retry-After), when it sent one before closing.
    if (!this.refusal) return { code, reason, ...retryHint({ retryAfterMs: this.drainHintMs }) }
    const { code: errorCode, msg, data } = this.refusal
    return { code, reason, error: SwitchboardError.from(errorCode, msg, data), ...retryHint(data) }
  }

  private hello(): void {
    if (this.phase === 'over') return
    const hello: ClientMessage = { t: 'hello', id: HELLO_ID, v: PROTOCOL_VERSION, agent: this.options.agent }
    if (this.token !== undefined) hello.token = this.token
    this.transport?.send(JSON.stringify(hello))
  }

  private onFrame(frame: string): void {
    if (this.phase === 'over') return
    this.watchdog.heard()
    let value: unknown
    try {
      value = JSON.parse(frame)
    } catch {
      this.events.onInvalidFrame(new SwitchboardError('INVALID_MESSAGE', 'the server sent a frame that is not JSON'))
      return
    }
    for (const m of Array.isArray(value) ? value : [value]) {
      if (this.isOver()) return // a message earlier in the batch ended it
      if (typeof m === 'object' && m !== null) this.onMessage(m as ServerMessage)
      else this.events.onInvalidFrame(new SwitchboardError('INVALID_MESSAGE', 'the server sent a non-object message'))
    }
  }

  private onMessage(m: ServerMessage): void {
    switch (m.t) {
      case 'ping':
        this.transport?.send('{"t":"pong"}')
        return
      case 'pong':
        return
      case 'drain':
        // The close (4008 DRAINING) follows; its end carries the hint.
        this.drainHintMs = m.after
        return
      case 'welcome':
        if (m.id !== HELLO_ID || this.phase !== 'handshake') return
        this.phase = 'welcomed'
        this.watchdog.start(m.hb.timeout)
        this.events.onWelcome(m)
        // An error that came before the welcome did not refuse anything after all: pass it on.
        if (this.refusal && this.phase === 'welcomed') this.events.onMessage(this.refusal)
        this.refusal = undefined
        return
      case 'err':
        // During the handshake an error is the server's answer to this attempt (a refused hello,
        // a limit): held, and reported with the close that follows.
        if (this.phase === 'handshake' && (m.id === undefined || m.id === HELLO_ID)) {
          this.refusal ??= m
          return
        }
    }
    this.events.onMessage(m)
  }
}

function refusedUpgrade(code: number, reason: string, refusal: UpgradeRefusal): AttemptEnd {
  const error = new SwitchboardError(
    errorCodeForUpgradeStatus(refusal.status),
    `the server refused the connection with HTTP ${refusal.status}`,
    refusal,
  )
  return refusal.retryAfterMs === undefined
    ? { code, reason, error }
    : { code, reason, error, retryAfterMs: refusal.retryAfterMs }
}

/** A refusal `err` may say when to come back: `data.retryAfterMs` (bounded like Retry-After). */
function retryHint(data: unknown): { retryAfterMs?: number } {
  const ms = (data as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return {}
  return { retryAfterMs: Math.min(ms, MAX_RETRY_AFTER_MS) }
}
