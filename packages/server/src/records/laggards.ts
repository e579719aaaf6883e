import { jsonCodec, type RecordChangeMessage } from '@switchboard/protocol'
import { PollUntil } from '../session/poll-until.js'
import type { Session } from '../session/session.js'
import { EncodedFrame } from '../transports/transport.js'

/** How often a lagging subscriber's outbound buffer is looked at while it drains. */
const DRAIN_POLL_MS = 5

/**
 * A subscriber is lagging once this many bytes wait to leave for it: 64 KiB (one full batch
 * frame, more than the kernel takes at once), well under the slow-consumer limit so that record
 * changes alone never get a subscriber closed.
 */
export function laggingAbove(maxBufferedBytes: number): number {
  return Math.max(1, Math.min(64 * 1024, Math.floor(maxBufferedBytes / 8)))
}

/** One record's lagging subscriber. */
export interface Lag {
  /** Changes were held back: the record's newest state is owed once the session drained. */
  owed: boolean
  /** The version of the whole state sent last: changes up to it are in it, and are skipped. */
  sentVersion: number
}

/** The newest state of a record, as the service reads it (undefined data: deleted). */
export interface WholeState {
  version: number
  data: unknown
}

/**
 * Subscribers that fall behind on records. A subscriber whose outbound buffer (queued frames
 * plus what its socket has not taken yet) is over `highWater` bytes does not get each change
 * queued: the record is marked owed for it, and once its buffer drained to `highWater / 2` it
 * gets the record's newest state once, as a whole-document change (`rchg` with `d` and no `p`,
 * or `del`). Versions it never saw are coalesced into that one frame; it never gets an older
 * state after a newer one, and it ends at the last version. Other subscribers are not touched.
 */
export class Laggards {
  private readonly byRecord = new Map<string, Map<Session, Lag>>()
  private readonly bySession = new Map<Session, Set<string>>()
  /** Sessions with a drain wait out (one per session, whatever the number of records owed). */
  private readonly waiting = new Set<Session>()
  /** The last whole-state frame per record: laggards catching up together share one encoding. */
  private readonly frames = new Map<string, { version: number; frame: EncodedFrame }>()
  private readonly drained = new PollUntil(DRAIN_POLL_MS)

  constructor(
    private readonly highWater: number,
    /** Reads the newest state of each record and hands it to `send` (the record's lane, in order). */
    private readonly catchUp: (session: Session, names: string[]) => void,
  ) {}

  /** The lagging subscribers of a record, if any (fan-out looks here once per change). */
  of(name: string): Map<Session, Lag> | undefined {
    return this.byRecord.get(name)
  }

  /**
   * Whether a change for `session` is to be held back instead of queued. Its backlog as of its
   * last flush (an upper bound, read without a look into the socket per delivery): one that has
   * drained since catches up from the drain check, a few ms later.
   */
  isBehind(session: Session): boolean {
    return session.backlogBytes() > this.highWater
  }

  /** Holds back a change: the record's newest state goes to `session` once it drained. */
  hold(session: Session, name: string): void {
    let lags = this.byRecord.get(name)
    if (!lags) this.byRecord.set(name, (lags = new Map()))
    const lag = lags.get(session)
    if (lag) lag.owed = true
    else {
      lags.set(session, { owed: true, sentVersion: 0 })
      let names = this.bySession.get(session)
      if (!names) this.bySession.set(session, (names = new Set()))
      names.add(name)
    }
    this.awaitDrain(session)
  }

  /** Sends the newest state if it is still owed; changes up to its version are skipped after it. */
  send(session: Session, name: string, state: WholeState): void {
    const lag = this.byRecord.get(name)?.get(session)
    if (!lag?.owed || session.phase === 'closed') return
    lag.owed = false
    lag.sentVersion = state.version
    session.enqueue(this.frameOf(name, state))
  }

  /** The session got a change newer than its whole state: it is no longer behind on `name`. */
  forget(session: Session, name: string): void {
    const lags = this.byRecord.get(name)
    if (!lags?.delete(session)) return
    if (lags.size === 0) {
      this.byRecord.delete(name)
      this.frames.delete(name)
    }
    const names = this.bySession.get(session)
    names?.delete(name)
    if (names?.size === 0) this.bySession.delete(session)
  }

  /** The session closed or left every record. */
  forgetSession(session: Session): void {
    for (const name of [...(this.bySession.get(session) ?? [])]) this.forget(session, name)
  }

  private awaitDrain(session: Session): void {
    if (this.waiting.has(session)) return
    this.waiting.add(session)
    const low = this.highWater / 2
    void this.drained
      .until(() => session.phase === 'closed' || session.outboundBytes() <= low)
      .then(() => {
        this.waiting.delete(session)
        if (session.phase === 'closed') return this.forgetSession(session)
        const owed: string[] = []
        for (const name of this.bySession.get(session) ?? [])
          if (this.byRecord.get(name)?.get(session)?.owed) owed.push(name)
        if (owed.length > 0) this.catchUp(session, owed)
      })
  }

  private frameOf(name: string, state: WholeState): EncodedFrame {
    const cached = this.frames.get(name)
    if (cached?.version === state.version) return cached.frame
    const change: RecordChangeMessage =
      state.data === undefined
        ? { t: 'rchg', n: name, v: state.version, del: true }
        : { t: 'rchg', n: name, v: state.version, d: state.data }
    const frame = new EncodedFrame(jsonCodec.encode(change) as string)
    this.frames.set(name, { version: state.version, frame })
    return frame
  }
}
