import type { Clock } from '../../clock.js'
import type { EncodedFrame, Transport, TransportSink } from '../transport.js'

export type FallbackKind = 'sse' | 'longpoll'

/**
 * What a session answers a poll or writes its event stream to: an HTTP response on the node
 * that holds the session, or a relayed one standing for the response of another node (a
 * request that reached a node other than the holder, SPEC §5).
 */
export interface SessionResponse {
  readonly destroyed: boolean
  readonly writableLength: number
  writeHead(status: number, headers: Record<string, string | number>): unknown
  write(chunk: string | Buffer): unknown
  end(chunk?: string): unknown
  destroy(): unknown
  once(event: 'close', listener: () => void): unknown
}

/** How long requests and closed sessions wait, on the server's clock. */
export interface FallbackTimers {
  readonly clock: Clock
  /** A long-poll with nothing to answer is held this long, then answered empty (SPEC: ≤ 25 s). */
  readonly pollHoldMs: number
  /** A closed session waits this long for its peer to collect the last frames and the close. */
  readonly lingerMs: number
}

/** The result of handing a `/send` body to the session. */
export type Receipt = 'ok' | 'gap' | 'over'

const SSE_WIRE = Symbol('sse-data-event')
const STREAM_OPENED = 'event: ready\ndata: \n\n'

/**
 * The session end of the SSE and long-polling transports: one object per session that outlives
 * the HTTP requests carrying it. Downstream, frames get consecutive sequence numbers. Over SSE
 * they are written to the one event-stream response as they come (a frame written is a frame
 * sent: a broken stream ends the session, like a broken WebSocket). Over long-polling they stay
 * buffered until a later poll acknowledges them, so a poll response cut on its way is sent
 * again by the next poll and nothing is lost. Upstream, `/send` bodies carry the sequence
 * number of their first frame: a retried body is applied once, in order.
 */
export class FallbackTransport implements Transport {
  sink: TransportSink | undefined
  /** Frames not yet acknowledged (long-polling) or not yet written (SSE before the stream opened). */
  private readonly frames: string[] = []
  /** Sequence number of `frames[0]`. */
  private firstSeq = 1
  private bufferedChars = 0
  /** The next upstream sequence number expected. */
  private nextUp = 1
  private heldPoll: { res: SessionResponse; cancel: () => void } | undefined
  private stream: SessionResponse | undefined
  private ending: { code: number; reason: string } | undefined
  private sinkClosed = false
  private isGone = false
  private cancelLinger: (() => void) | undefined

  constructor(
    readonly kind: FallbackKind,
    /** The secret that addresses this session in `/send`, `/poll`; never shown to other clients. */
    readonly id: string,
    readonly remoteAddress: string,
    private readonly timers: FallbackTimers,
    /** Called once when the session is over and its last frames were collected (or abandoned). */
    private readonly onGone: (transport: FallbackTransport) => void,
    /** Gives the connection slot back (called once, when the session ends). */
    private readonly release: () => void,
  ) {}

  // ---- Transport -------------------------------------------------------------------------

  send(frame: EncodedFrame): void {
    if (this.ending) return
    const stream = this.stream
    if (stream) {
      if (!stream.destroyed) stream.write(frame.wireForm(SSE_WIRE, dataEvent))
      return
    }
    this.frames.push(frame.text)
    this.bufferedChars += frame.size
    if (this.heldPoll) this.answerPoll()
  }

  close(code: number, reason: string): void {
    if (this.ending) return
    this.ending = { code, reason }
    this.release()
    const stream = this.stream
    if (stream) {
      if (!stream.destroyed) stream.end(closeEvent(code, reason))
      this.gone()
    } else {
      // The last frames and the close wait for the peer's next request (a poll answered now may
      // still be cut on its way, and the stream may not be open yet), but not forever.
      this.answerPoll()
      this.cancelLinger = this.timers.clock.schedule(this.timers.lingerMs, () => this.gone())
    }
    this.closeSink(code, reason)
  }

  bufferedBytes(): number {
    return this.bufferedChars + (this.stream?.writableLength ?? 0)
  }

  // ---- upstream: POST /send --------------------------------------------------------------

  /**
   * Frames `seq`, `seq + 1`, … from the peer. Frames already received (a retried body) are
   * skipped; a body that starts past the next expected number is refused whole (`gap`).
   */
  receive(seq: number, frames: readonly string[]): Receipt {
    if (this.ending) return 'over'
    if (seq > this.nextUp) return 'gap'
    for (let i = this.nextUp - seq; i < frames.length && !this.ending; i++) {
      this.nextUp++
      this.sink?.onFrame(frames[i] as string)
    }
    return 'ok'
  }

  /** The peer said goodbye (`/send` with `close`): the session ends as a WebSocket close would. */
  closeByPeer(): void {
    if (this.ending) return
    this.ending = { code: 1000, reason: 'closed by the client' }
    this.release()
    this.answerHeldPollEmpty()
    this.stream?.end()
    this.closeSink(1000, 'closed by the client')
    this.gone()
  }

  // ---- downstream: GET /poll -------------------------------------------------------------

  /**
   * A poll that acknowledges every frame up to `ack`. Answered at once when frames wait (or the
   * session is over), otherwise held until one comes or `pollHoldMs` passed. A newer poll
   * answers an older one that is still held (empty), so the peer never has two outstanding.
   */
  poll(ack: number, res: SessionResponse): void {
    this.acknowledge(ack)
    this.answerHeldPollEmpty()
    const cancel = this.timers.clock.schedule(this.timers.pollHoldMs, () => {
      if (this.heldPoll?.res === res) this.answerPollWith([], undefined)
    })
    this.heldPoll = { res, cancel }
    // A poll cut on its way (network, proxy) is not the end of the session: the next one resends.
    res.once('close', () => {
      if (this.heldPoll?.res !== res) return
      cancel()
      this.heldPoll = undefined
    })
    if (this.frames.length > 0 || this.ending) this.answerPoll()
  }

  private acknowledge(ack: number): void {
    const drop = Math.min(ack - this.firstSeq + 1, this.frames.length)
    if (drop <= 0) return
    for (let i = 0; i < drop; i++) this.bufferedChars -= (this.frames[i] as string).length
    this.frames.splice(0, drop)
    this.firstSeq += drop
  }

  /** Every unacknowledged frame, and the close once the session is over. */
  private answerPoll(): void {
    this.answerPollWith(this.frames, this.ending)
  }

  private answerHeldPollEmpty(): void {
    if (this.heldPoll) this.answerPollWith([], undefined)
  }

  private answerPollWith(frames: readonly string[], close: { code: number; reason: string } | undefined): void {
    const held = this.heldPoll
    if (!held) return
    this.heldPoll = undefined
    held.cancel()
    // Frames are JSON already: the body is built around them, not re-encoded.
    let body = `{"seq":${this.firstSeq},"frames":[${frames.join(',')}]`
    if (close) body += `,"close":${JSON.stringify(close)}`
    body += '}'
    const res = held.res
    if (res.destroyed) return
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    })
    res.end(body)
  }

  // ---- downstream: GET /sse?ticket= -------------------------------------------------------

  /**
   * The SDK's event stream for this session: every frame as a `data:` event, the close as
   * `event: close`. A stream that breaks ends the session.
   */
  attachStream(res: SessionResponse): void {
    if (this.stream) return void res.destroy() // a ticket is single-use: cannot happen
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    })
    // The first event tells the client the stream is flowing (a buffering proxy holds it back).
    res.write(STREAM_OPENED)
    for (const text of this.frames) res.write(dataEvent(text))
    this.frames.length = 0
    this.bufferedChars = 0
    if (this.ending) {
      res.end(closeEvent(this.ending.code, this.ending.reason))
      this.gone()
      return
    }
    this.stream = res
    res.once('close', () => {
      if (this.ending) return
      this.ending = { code: 1006, reason: 'the event stream closed' }
      this.release()
      this.closeSink(1006, 'the event stream closed')
      this.gone()
    })
  }

  // ---- end -------------------------------------------------------------------------------

  private closeSink(code: number, reason: string): void {
    if (this.sinkClosed) return
    this.sinkClosed = true
    this.sink?.onClose(code, reason)
  }

  private gone(): void {
    if (this.isGone) return
    this.isGone = true
    this.cancelLinger?.()
    this.frames.length = 0
    this.bufferedChars = 0
    this.onGone(this)
  }
}

function dataEvent(text: string): Buffer {
  return Buffer.from(`data: ${text}\n\n`)
}

function closeEvent(code: number, reason: string): string {
  return `event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`
}
