import type { Clock } from '../../clock.js'
import type { Flushable, FlushScheduler } from '../../session/flush-scheduler.js'
import type { HeldPolls, PollHolder } from '../longpoll/held-polls.js'
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
  /** `headers`: an object, or names and values in one flat list (as `ServerResponse.writeHead` takes them). */
  writeHead(status: number, headers: ResponseHeaders): unknown
  write(chunk: string | Buffer): unknown
  end(chunk?: string): unknown
  destroy(): unknown
  on(event: 'close', listener: () => void): unknown
  once(event: 'close', listener: () => void): unknown
  /** A local response's connection (`ServerResponse`): the event stream writes its events straight to it. */
  readonly socket?: StreamSocket | null
  /** A local response's framing, once its head is out (`ServerResponse`). */
  readonly chunkedEncoding?: boolean
}

/** What the event stream needs of a connection. */
export interface StreamSocket {
  write(chunk: Buffer): unknown
  readonly writableLength: number
  readonly destroyed: boolean
}

export type ResponseHeaders = Record<string, string | number> | (string | number)[]

/** How long requests and closed sessions wait, on the server's clock. */
export interface FallbackTimers {
  readonly clock: Clock
  /** A long-poll with nothing to answer is held this long, then answered empty (SPEC: ≤ 25 s). */
  readonly pollHoldMs: number
  /** A closed session waits this long for its peer to collect the last frames and the close. */
  readonly lingerMs: number
  /** Every held poll's hold (`pollHoldMs`), on one timer. */
  readonly holds: HeldPolls
  /** The sessions' end-of-turn flush: a held poll that frames came for is answered with it. */
  readonly turnEnd: FlushScheduler
}

/** The result of handing a `/send` body to the session. */
export type Receipt = 'ok' | 'gap' | 'over'

const SSE_WIRE = Symbol('sse-data-event')
const SSE_CHUNK_WIRE = Symbol('sse-data-event-chunk')
const STREAM_OPENED = 'event: ready\ndata: \n\n'
// Built once: header objects passed to writeHead are not kept, only read.
const POLL_HEADERS = ['content-type', 'application/json; charset=utf-8', 'cache-control', 'no-store']
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no', // nginx: do not buffer the stream
}

/**
 * The session end of the SSE and long-polling transports: one object per session that outlives
 * the HTTP requests carrying it. Downstream, frames get consecutive sequence numbers. Over SSE
 * they are written to the one event-stream response as they come (a frame written is a frame
 * sent: a broken stream ends the session, like a broken WebSocket). Over long-polling they stay
 * buffered until a later poll acknowledges them, so a poll response cut on its way is sent
 * again by the next poll and nothing is lost. Upstream, `/send` bodies carry the sequence
 * number of their first frame: a retried body is applied once, in order.
 */
export class FallbackTransport implements Transport, PollHolder, Flushable {
  sink: TransportSink | undefined
  /** Frames not yet acknowledged (long-polling) or not yet written (SSE before the stream opened). */
  private readonly frames: string[] = []
  /** Sequence number of `frames[0]`. */
  private firstSeq = 1
  private bufferedChars = 0
  /** The next upstream sequence number expected. */
  private nextUp = 1
  private heldPoll: SessionResponse | undefined
  private answerQueued = false
  private stream: SessionResponse | undefined
  /** The stream's connection, when events go straight to it (`streamChunked`: as HTTP chunks). */
  private streamSocket: StreamSocket | undefined
  private streamChunked = false
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
    const socket = this.streamSocket
    if (socket) {
      if (!socket.destroyed) {
        socket.write(
          this.streamChunked ? frame.wireForm(SSE_CHUNK_WIRE, chunkedDataEvent) : frame.wireForm(SSE_WIRE, dataEvent),
        )
      }
      return
    }
    const stream = this.stream
    if (stream) {
      if (!stream.destroyed) stream.write(frame.wireForm(SSE_WIRE, dataEvent))
      return
    }
    this.frames.push(frame.text)
    this.bufferedChars += frame.size
    // Answered once the work of this turn is done, so frames that come together (a batch of
    // publications, a `/send` body) leave in one answer instead of one poll round trip each.
    if (this.heldPoll && !this.answerQueued) {
      this.answerQueued = true
      this.timers.turnEnd.schedule(this)
    }
  }

  /** The end of the turn in which frames came for a held poll. */
  flush(): void {
    this.answerQueued = false
    if (this.frames.length > 0 || this.ending) this.answerPoll()
  }

  /** The hold of the held poll is over: it is answered empty. */
  holdOver(): void {
    this.answerPollWith([], undefined)
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
    this.sink?.onHeard()
    this.acknowledge(ack)
    this.answerHeldPollEmpty()
    if (this.frames.length > 0 || this.ending) return this.answer(res, this.frames, this.ending)
    this.heldPoll = res
    this.timers.holds.hold(this)
    // A poll cut on its way (network, proxy) is not the end of the session: the next one resends.
    res.on('close', (this.pollClosed ??= () => this.dropClosedPoll()))
  }

  /** One listener for all of the session's polls (made at the first, an SSE session has none). */
  private pollClosed: (() => void) | undefined

  /** A poll closed: if it was the held one, it is gone (cut by the peer or the network). */
  private dropClosedPoll(): void {
    if (!this.heldPoll?.destroyed) return
    this.heldPoll = undefined
    this.timers.holds.release(this)
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
    this.timers.holds.release(this)
    this.answer(held, frames, close)
  }

  private answer(
    res: SessionResponse,
    frames: readonly string[],
    close: { code: number; reason: string } | undefined,
  ): void {
    if (res.destroyed) return
    // Frames are JSON already: the body is built around them, not re-encoded.
    let body = `{"seq":${this.firstSeq},"frames":[${frames.join(',')}]`
    if (close) body += `,"close":${JSON.stringify(close)}`
    body += '}'
    res.writeHead(200, [...POLL_HEADERS, 'content-length', Buffer.byteLength(body)])
    res.end(body)
  }

  // ---- downstream: GET /sse?ticket= -------------------------------------------------------

  /**
   * The SDK's event stream for this session: every frame as a `data:` event, the close as
   * `event: close`. A stream that breaks ends the session.
   */
  attachStream(res: SessionResponse): void {
    if (this.stream) return void res.destroy() // a ticket is single-use: cannot happen
    res.writeHead(200, STREAM_HEADERS)
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
    // Events go straight to the connection, framed as the response is (an HTTP chunk each, or
    // bare when the connection ends the body), built once per frame and shared by every
    // stream: one socket write per event instead of the response's cork, chunk header and
    // trailer writes. Only when the response buffers nothing of its own (not a pipelined
    // response waiting for its turn), so the order of the bytes is kept; `end` stays the
    // response's (the last chunk, and keep-alive).
    const socket = res.socket
    if (socket && res.chunkedEncoding !== undefined && res.writableLength === socket.writableLength) {
      this.streamSocket = socket
      this.streamChunked = res.chunkedEncoding
    }
    flattenHead(res)
    // `on`: the response closes once; `once` would wrap the listener for nothing.
    res.on('close', () => {
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

/**
 * A response keeps its head (`_header`, for `headersSent`) for as long as it lasts: for an event
 * stream, the whole connection. Node builds it by concatenation, a tree of ~30 string pieces
 * (~0.9 KiB); reading it once makes V8 flatten it in place to one string (~0.3 KiB).
 */
function flattenHead(res: SessionResponse): void {
  const head = (res as { _header?: unknown })._header
  if (typeof head === 'string') head.indexOf('\n')
}

function dataEvent(text: string): Buffer {
  return Buffer.from(`data: ${text}\n\n`)
}

/** `dataEvent` as one HTTP/1.1 chunk: size line, the event, CRLF. */
function chunkedDataEvent(text: string): Buffer {
  const event = `data: ${text}\n\n`
  return Buffer.from(`${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`)
}

function closeEvent(code: number, reason: string): string {
  return `event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`
}
