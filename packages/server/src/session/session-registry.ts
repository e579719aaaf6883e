import { randomFillSync } from 'node:crypto'
import { CloseCode, jsonCodec } from '@switchboard/protocol'
import { systemClock, type Clock } from '../clock.js'
import { EncodedFrame, type Transport } from '../transports/transport.js'
import { Session } from './session.js'
import type { SessionHost } from './session-host.js'

/**
 * A sweep looks at this many sessions per event-loop turn, and sends at most this many pings:
 * connections opened together fall due together, and 10,000 pings (100,000 connections at the
 * default 10 s) written in one turn held every publication back for ~150 ms. In slices, a turn
 * of pings stays under half a millisecond (~10 µs a write) and I/O runs in between.
 */
const SWEEP_SLICE = 4096
const PING_SLICE = 32
/** One ping for everyone: encoded (and framed, per transport) once, not once per session. */
const PING = new EncodedFrame(jsonCodec.encode({ t: 'ping' }) as string)

/**
 * Every live session, plus one timer for all of them: heartbeats, dead-peer detection and
 * handshake timeouts are a periodic sweep rather than a timer per connection. Time comes from
 * the clock (a test drives it), the sessions' own timestamps from the host's `now()` (the same
 * clock). A sweep of many sessions goes on over several turns (SWEEP_SLICE, PING_SLICE); a small
 * one finishes at once.
 */
export class SessionRegistry {
  private readonly sessions = new Set<Session>()
  private cancelSweep: (() => void) | undefined
  private readonly sweepMs: number
  /** The sweep in progress, continued on the next turn while sessions are left. */
  private cursor: Iterator<Session> | undefined
  private continuation: ReturnType<typeof setImmediate> | undefined
  private emptied: (() => void)[] = []

  constructor(
    private readonly host: SessionHost,
    private readonly clock: Clock = systemClock,
    /** Draws each session's first-ping phase (`firstPingEarlyMs`). */
    private readonly random: () => number = Math.random,
  ) {
    const { intervalMs, timeoutMs } = host.config.server.heartbeat
    const handshake = host.config.server.handshakeTimeoutMs
    this.sweepMs = Math.max(
      20,
      Math.min(1000, Math.floor(intervalMs / 2), Math.floor(timeoutMs / 4), Math.floor(handshake / 2)),
    )
  }

  get size(): number {
    return this.sessions.size
  }

  /** The sessions there are now (a copy: closing them does not disturb the caller's loop). */
  list(): Session[] {
    return [...this.sessions]
  }

  /** Resolves once no session is left (at once when there is none). */
  whenEmpty(): Promise<void> {
    if (this.sessions.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.emptied.push(resolve))
  }

  create(transport: Transport): Session {
    const session = new Session(newClientId(), transport, this.host)
    session.firstPingEarlyMs = Math.floor(this.random() * this.host.config.server.heartbeat.intervalMs)
    this.sessions.add(session)
    if (!this.cancelSweep) this.cancelSweep = this.clock.schedule(this.sweepMs, this.tick)
    return session
  }

  delete(session: Session): void {
    this.sessions.delete(session)
    if (this.sessions.size === 0 && this.emptied.length > 0) for (const resolve of this.emptied.splice(0)) resolve()
  }

  /** Closes every session with the same code, e.g. SHUTDOWN while draining. */
  closeAll(code: number, reason: string): void {
    for (const s of [...this.sessions]) s.close(code, reason)
  }

  stop(): void {
    this.cancelSweep?.()
    this.cancelSweep = undefined
    if (this.continuation) clearImmediate(this.continuation)
    this.continuation = undefined
    this.cursor = undefined
  }

  private readonly tick = (): void => {
    this.cancelSweep = this.clock.schedule(this.sweepMs, this.tick)
    // A sweep still going on (thousands of sessions) covers everyone: no second one beside it.
    if (this.cursor) return
    this.cursor = this.sessions.values()
    this.sweepSlice()
  }

  /**
   * Silent towards us for an interval, and not pinged since it went silent (or for an interval).
   * Until its first ping, a session's interval is shorter by its random `firstPingEarlyMs`:
   * connections opened together (after a deploy, a network blip) would otherwise be pinged in
   * one sweep and answer in one burst, every interval, for as long as they live — over SSE and
   * long-polling a burst of `POST /send` requests. Once pinged, each keeps its own phase.
   */
  private owesPing(s: Session, now: number, intervalMs: number): boolean {
    const last = s.pingedAt
    const interval = last === undefined ? intervalMs - s.firstPingEarlyMs : intervalMs
    if (now - s.lastSentAt >= interval) return true // idle towards it
    if (now - s.lastReceivedAt < interval) return false
    return last === undefined || last < s.lastReceivedAt || now - last >= intervalMs
  }

  /** One turn's share of the sweep; the rest continues on the next turn. */
  private readonly sweepSlice = (): void => {
    this.continuation = undefined
    const cursor = this.cursor
    if (!cursor) return
    const now = this.clock.now()
    const { intervalMs, timeoutMs } = this.host.config.server.heartbeat
    const handshakeMs = this.host.config.server.handshakeTimeoutMs
    // Closing a sweep early guarantees detection within timeoutMs, not timeoutMs + sweepMs.
    const silentLimit = Math.max(timeoutMs - this.sweepMs, 1)
    let visited = 0
    let pings = 0
    while (visited < SWEEP_SLICE && pings < PING_SLICE) {
      const next = cursor.next()
      if (next.done) {
        this.cursor = undefined
        return
      }
      visited++
      const s = next.value
      if (s.phase === 'closed') continue
      if (s.phase !== 'open' && now - s.createdAt > handshakeMs) {
        s.close(CloseCode.HANDSHAKE_TIMEOUT, 'no hello within the handshake timeout')
      } else if (s.phase === 'open' && s.tokenExpiresAt !== undefined && now >= s.tokenExpiresAt) {
        if (s.recheckAtExpiry) s.close(CloseCode.SESSION_EXPIRED, 'credentials to be checked again; reconnect')
        else s.close(CloseCode.TOKEN_EXPIRED, 'token expired; reconnect with a new one')
      } else if (now - s.lastReceivedAt > silentLimit) {
        s.close(CloseCode.HEARTBEAT_TIMEOUT, 'no frame within the heartbeat timeout')
      } else if (s.phase === 'open' && this.owesPing(s, now, intervalMs)) {
        // Also when we keep sending (a busy subscriber) but hear nothing: the pong is what tells
        // us the peer is alive, and without a ping a receive-only client never speaks.
        s.enqueue(PING)
        s.lastSentAt = now
        s.pingedAt = now
        pings++
      }
    }
    this.continuation = setImmediate(this.sweepSlice)
  }
}

/** Random bytes drawn in bulk: one getrandom call per 455 client ids, not one per connection. */
const pool = Buffer.alloc(4095)
let poolOffset = pool.length

/** 72 random bits, base64url: unguessable, and unique for every practical purpose. */
function newClientId(): string {
  if (poolOffset + 9 > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  poolOffset += 9
  return pool.toString('base64url', poolOffset - 9, poolOffset)
}
