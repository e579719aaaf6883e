import {
  CloseCode,
  errorCodeForUpgradeStatus,
  isErrorCode,
  PROTOCOL_VERSION,
  SwitchboardError,
  type ClientMessage,
  type ErrorMessage,
  type ServerMessage,
  type WelcomeMessage,
} from '@switchboard/protocol'
import type { ClientTransport, TransportFactory, UpgradeRefusal } from '../transport/transport.js'
import type { TransportName } from '../transport/names.js'
import type { AttemptEnd } from './state-machine.js'
import { MAX_RETRY_AFTER_MS } from '../transport/upgrade-refusal.js'
import { SilenceWatchdog } from './watchdog.js'

/** The hello's request id; requests count from 1, so an answer with this id is the hello's. */
const HELLO_ID = 0

/**
 * The most a transport may take to open and bring the welcome (the server's default heartbeat
 * timeout): the last transport has no `transportTimeoutMs`, and none has once it opened, so a
 * black-holed network or a server that never answers the hello ends the attempt here instead of
 * holding it forever.
 */
const HANDSHAKE_TIMEOUT_MS = 30_000

export interface NamedTransport {
  readonly name: TransportName
  readonly factory: TransportFactory
}

/** What an attempt takes from the connection's options. */
export interface AttemptOptions {
  readonly token?: string | (() => Promise<string>) | undefined
  /** A transport that has not opened by then is given up for the next one (not the last one). */
  readonly transportTimeoutMs: number
  readonly agent: string
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
 * Transports are tried in order: one that cannot open, or does not open within
 * `transportTimeoutMs` (a proxy holding back an event stream), or closes before the server sent
 * anything (a frame, or a close code of its own), is given up for the next. The attempt ends once, with the close { code, reason } and
 * the server's error when it gave one: an `err` during the handshake (the hello's answer, or a
 * refusal by a limit), or the HTTP status of a refused upgrade or `/connect`.
 */
export class Attempt {
  /** The token this attempt authenticates with. */
  token: string | undefined
  /** The transport in use (or being tried). */
  transportName: TransportName | undefined
  #transport: ClientTransport | undefined
  /** Counts transports tried: events from a transport given up are recognised and ignored. */
  #tries = 0
  /** handshake → welcomed → over; `over` also when abandoned, and then nothing is reported. */
  #phase: 'handshake' | 'welcomed' | 'over' = 'handshake'
  /** An `err` the server sent during the handshake: its answer to this attempt. */
  #refusal: ErrorMessage | undefined
  /** The `drain` message's hint: when to reconnect after the close that follows it. */
  #drainHintMs: number | undefined
  /** Long-polling to a server that hears polls (the welcome's `hb.polls`): a ping needs no pong. */
  #quietPings: boolean | undefined
  readonly #watchdog = new SilenceWatchdog(() =>
    this.#transport?.close(CloseCode.HEARTBEAT_TIMEOUT, 'the server went silent (heartbeat timeout)'),
  )

  constructor(
    private readonly options: AttemptOptions,
    private readonly url: string,
    /** Tried in this order until one reaches the server. */
    private readonly transports: readonly NamedTransport[],
    private readonly events: AttemptEvents,
  ) {}

  async start(): Promise<void> {
    try {
      const { token } = this.options
      this.token = typeof token === 'function' ? await token() : token
    } catch (err) {
      const reason = `token function failed: ${(err as Error)?.message ?? err}`
      this.#end({ code: CloseCode.AUTH_FAILED, reason, error: new SwitchboardError('AUTH_FAILED', reason) })
      return
    }
    if (this.#phase === 'over') return
    this.#open(0)
  }

  #open(index: number): void {
    const { transports, url } = this
    const { transportTimeoutMs } = this.options
    const candidate = transports[index] as NamedTransport
    const last = index === transports.length - 1
    const tryNo = ++this.#tries
    const current = () => this.#tries === tryNo && this.#phase !== 'over'
    let heard = false
    const giveUp = (end: AttemptEnd) => {
      clearTimeout(timer)
      if (!current()) return
      // The server answered over it, or nothing is left to try: the attempt ends as it did.
      if (heard || last) return this.#end(end)
      this.#tries++ // whatever the abandoned transport still reports is ignored
      this.#transport?.close(CloseCode.NORMAL, 'given up')
      this.#open(index + 1)
    }
    const timer = last
      ? undefined
      : setTimeout(() => giveUp({ code: CloseCode.ABNORMAL, reason: 'timed out' }), transportTimeoutMs)
    this.transportName = candidate.name
    this.#watchdog.start(HANDSHAKE_TIMEOUT_MS) // the welcome restarts it with the server's timeout
    try {
      const transport = candidate.factory(url, {
        onOpen: () => current() && (clearTimeout(timer), this.#hello()),
        onFrame: (frame) => current() && ((heard = true), this.#onFrame(frame)),
        onClose: (code, reason, refusal) => {
          // Close codes from 4000 up are a Switchboard server's own word, never a proxy's.
          if (code >= 4000) heard = true
          giveUp(refusal ? refusedUpgrade(code, reason, refusal) : this.#ended(code, reason))
        },
      })
      if (current()) this.#transport = transport
    } catch (err) {
      giveUp({ code: CloseCode.ABNORMAL, reason: `the transport failed to open: ${(err as Error)?.message ?? err}` })
    }
  }

  send(frame: string): void {
    if (this.#phase !== 'over') this.#transport?.send(frame)
  }

  /** Closes without reporting an end: the connection has moved on. */
  abandon(code: number, reason: string): void {
    if (this.#phase === 'over') return
    this.#phase = 'over'
    this.#watchdog.stop()
    this.#transport?.close(code, reason)
  }

  #isOver(): boolean {
    return this.#phase === 'over'
  }

  #end(end: AttemptEnd): void {
    if (this.#phase === 'over') return
    this.#phase = 'over'
    this.#watchdog.stop()
    this.events.onEnd(end)
  }

  #ended(code: number, reason: string): AttemptEnd {
    // A draining node's hint (bounded like Retry-After), when it sent one before closing.
    if (!this.#refusal) return { code, reason, ...retryHint({ retryAfterMs: this.#drainHintMs }) }
    const { code: errorCode, msg, data } = this.#refusal
    return { code, reason, error: SwitchboardError.from(errorCode, msg, data), ...retryHint(data) }
  }

  #hello(): void {
    if (this.#phase === 'over') return
    const hello: ClientMessage = { t: 'hello', id: HELLO_ID, v: PROTOCOL_VERSION, agent: this.options.agent }
    if (this.token !== undefined) hello.token = this.token
    this.#transport?.send(JSON.stringify(hello))
  }

  #onFrame(frame: string | object): void {
    if (this.#phase === 'over') return
    this.#watchdog.heard()
    let value: unknown = frame
    try {
      if (typeof frame === 'string') value = JSON.parse(frame)
    } catch {
      return this.#invalid() // not JSON
    }
    for (const m of Array.isArray(value) ? value : [value]) {
      if (this.#isOver()) return // a message earlier in the batch ended it
      if (typeof m === 'object' && m !== null) this.onMessage(m as ServerMessage)
      else this.#invalid() // JSON, but not a message object
    }
  }

  #invalid(): void {
    this.events.onInvalidFrame(new SwitchboardError('INVALID_MESSAGE', 'the server sent a frame that is not a message'))
  }

  private onMessage(m: ServerMessage): void {
    switch (m.t) {
      case 'ping':
        // The next poll, sent at once, is the answer then.
        if (!this.#quietPings) this.#transport?.send('{"t":"pong"}')
        return
      case 'pong':
        return
      case 'drain':
        // The close (4008 DRAINING) follows; its end carries the hint.
        this.#drainHintMs = m.after
        return
      case 'welcome':
        if (m.id !== HELLO_ID || this.#phase !== 'handshake') return
        this.#phase = 'welcomed'
        this.#quietPings = m.hb.polls && this.transportName === 'longpoll'
        this.#watchdog.start(m.hb.timeout)
        this.events.onWelcome(m)
        // An error that came before the welcome did not refuse anything after all: pass it on.
        if (this.#refusal && this.#phase === 'welcomed') this.events.onMessage(this.#refusal)
        this.#refusal = undefined
        return
      case 'err':
        // During the handshake an error is the server's answer to this attempt (a refused hello,
        // a limit): held, and reported with the close that follows.
        if (this.#phase === 'handshake' && (m.id === undefined || m.id === HELLO_ID)) {
          this.#refusal ??= m
          return
        }
    }
    this.events.onMessage(m)
  }
}

function refusedUpgrade(code: number, reason: string, refusal: UpgradeRefusal): AttemptEnd {
  // A refusal's body may come from anything between here and the server: checked by `from`.
  const error = SwitchboardError.from(
    isErrorCode(refusal.code) ? refusal.code : errorCodeForUpgradeStatus(refusal.status),
    refusal.message ?? `the server refused the connection with HTTP ${refusal.status}`,
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
