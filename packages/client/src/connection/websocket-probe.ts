import { CloseCode, type WelcomeMessage } from '@switchboard/protocol'
import type { Attempt, AttemptEvents } from './attempt.js'

/** Requests still unanswered on the old session after this long are handled as after a drop. */
const DRAIN_MS = 5_000
/** A probe not welcomed by then (a proxy that accepts the upgrade and then says nothing) failed. */
const PROBE_TIMEOUT_MS = 10_000

export interface ProbeHost {
  /** Starts a WebSocket-only attempt at the current server, reporting to `events`. */
  launch(events: AttemptEvents): Attempt
  /** Requests sent on the current session and not answered yet. */
  unanswered(): number
  /** The probe is welcomed and the current session drained: hand over now. */
  handOver(): void
  /** The probe failed while requests were held for it: send them on the current session. */
  release(): void
  /** Where the probe's events go once it is the connection's attempt. */
  readonly adopted: AttemptEvents
}

/**
 * A client on a fallback transport tries WebSocket again in the background, at most once per
 * interval: a second session beside the current one. Once it is welcomed, new requests are held
 * while the current session's answers come in (bounded by DRAIN_MS); then the connection hands
 * over: the old session is closed and the new one restores state the way a reconnect does, with
 * channels resuming from their last delivered offset and records from their version, so no
 * message is lost, repeated or reordered.
 */
export class WebSocketProbe {
  private timer: ReturnType<typeof setTimeout> | undefined
  private attempt: Attempt | undefined
  private welcome: WelcomeMessage | undefined
  /** The last probe handed over: its events are the connection's now. */
  private taken: Attempt | undefined

  constructor(
    private readonly intervalMs: number,
    private readonly host: ProbeHost,
  ) {}

  /** True while requests wait for the hand-over. */
  get holding(): boolean {
    return this.welcome !== undefined
  }

  schedule(): void {
    this.cancel()
    this.timer = setTimeout(() => this.start(), this.intervalMs)
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  /** Stops probing; a probe not yet adopted is closed. */
  cancel(): void {
    clearTimeout(this.timer)
    this.attempt?.abandon(CloseCode.NORMAL, 'probe cancelled')
    this.reset()
  }

  /** Called whenever an answer arrived on the current session. */
  answered(): void {
    if (this.holding && this.host.unanswered() === 0) this.host.handOver()
  }

  /** The welcomed probe and its welcome, now the connection's. */
  adopt(): { attempt: Attempt; welcome: WelcomeMessage } | undefined {
    if (!this.holding) return undefined
    clearTimeout(this.timer)
    const taken = { attempt: this.attempt as Attempt, welcome: this.welcome as WelcomeMessage }
    this.taken = taken.attempt
    this.reset()
    return taken
  }

  private reset(): void {
    this.attempt = undefined
    this.welcome = undefined
  }

  private start(): void {
    const attempt = this.host.launch({
      onWelcome: (welcome) => {
        if (this.attempt !== attempt) return
        this.welcome = welcome
        clearTimeout(this.timer)
        this.timer = setTimeout(() => this.holding && this.host.handOver(), DRAIN_MS)
        this.answered()
      },
      // Until adopted, the probe's session has nothing to say (it subscribed to nothing).
      onMessage: (m) => attempt === this.taken && this.host.adopted.onMessage(m),
      onInvalidFrame: (e) => attempt === this.taken && this.host.adopted.onInvalidFrame(e),
      onEnd: (end) => {
        if (attempt === this.taken) return this.host.adopted.onEnd(end)
        if (this.attempt === attempt) this.failed()
      },
    })
    this.attempt = attempt
    this.timer = setTimeout(() => this.failed(), PROBE_TIMEOUT_MS)
  }

  /** WebSocket still does not work: carry on as before, and try again after the interval. */
  private failed(): void {
    const held = this.holding
    this.cancel()
    if (held) this.host.release()
    this.schedule()
  }
}
