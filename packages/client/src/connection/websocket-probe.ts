import { CloseCode, type WelcomeMessage } from '@switchboard/protocol'
import type { Attempt, AttemptEvents } from './attempt.js'

/**
 * A probe not welcomed within this (a proxy that accepts the upgrade and then says nothing) has
 * failed; requests still unanswered on the old session this long after the welcome are handled
 * as after a drop.
 */
const WAIT_MS = 5_000

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
 * while the current session's answers come in (bounded by WAIT_MS); then the connection hands
 * over: the old session is closed and the new one restores state the way a reconnect does, with
 * channels resuming from their last delivered offset and records from their version, so no
 * message is lost, repeated or reordered.
 */
export interface WebSocketProbe {
  /** True while requests wait for the hand-over. */
  readonly holding: boolean
  /** Tries WebSocket once the interval has passed (again, after a failed try). */
  schedule(): void
  /** Stops probing; a probe not yet adopted is closed. */
  cancel(): void
  /** Called whenever an answer arrived on the current session. */
  answered(): void
  /** The welcomed probe and its welcome, now the connection's. */
  adopt(): { attempt: Attempt; welcome: WelcomeMessage } | undefined
}

export function webSocketProbe(
  intervalMs: number,
  { launch, unanswered, handOver, release, adopted }: ProbeHost,
): WebSocketProbe {
  let timer: ReturnType<typeof setTimeout> | undefined
  let attempt: Attempt | undefined
  let welcome: WelcomeMessage | undefined
  /** The last probe handed over: its events are the connection's now. */
  let taken: Attempt | undefined
  const reset = () => {
    clearTimeout(timer)
    attempt?.abandon(CloseCode.NORMAL, 'probe over')
    attempt = welcome = undefined
  }
  const schedule = () => {
    reset()
    timer = setTimeout(start, intervalMs)
    ;(timer as { unref?: () => void }).unref?.()
  }
  /** WebSocket still does not work: carry on as before, and try again after the interval. */
  const failed = () => {
    const held = welcome !== undefined
    schedule()
    if (held) release()
  }
  const answered = () => {
    if (welcome && unanswered() === 0) handOver()
  }
  const start = () => {
    const probe = launch({
      onWelcome: (w) => {
        if (attempt !== probe) return
        welcome = w
        clearTimeout(timer)
        timer = setTimeout(() => welcome && handOver(), WAIT_MS)
        answered()
      },
      // Until adopted, the probe's session has nothing to say (it subscribed to nothing).
      onMessage: (m) => probe === taken && adopted.onMessage(m),
      onInvalidFrame: (e) => probe === taken && adopted.onInvalidFrame(e),
      onEnd: (end) => {
        if (probe === taken) adopted.onEnd(end)
        else if (attempt === probe) failed()
      },
    })
    attempt = probe
    timer = setTimeout(failed, WAIT_MS)
  }
  return {
    get holding() {
      return welcome !== undefined
    },
    schedule,
    cancel: reset,
    answered,
    adopt() {
      if (!attempt || !welcome) return undefined
      const adopted = { attempt, welcome }
      taken = attempt
      attempt = undefined // not abandoned: it is the connection's now
      reset()
      return adopted
    },
  }
}
