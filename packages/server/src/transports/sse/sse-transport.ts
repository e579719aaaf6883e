import type { ServerResponse } from 'node:http'
import { errorCodes, type ErrorCode, type RecoveryPageMessage, type SubscribeReply } from '@switchboard/protocol'
import type { EncodedFrame, Transport, TransportSink } from '../transport.js'
import { encodeEventId, type Positions } from './event-id.js'

const SSE = Symbol('sse-event')
/** Reconnect delay suggested to EventSource. */
const RETRY_MS = 2000

/** What a protocol frame means to a plain EventSource stream, worked out once per frame. */
type Item =
  | { kind: 'pub'; channel: string; offset: number; epoch: string; data: string }
  | { kind: 'ok'; id: number; reply: unknown }
  | { kind: 'err'; id: number | undefined; code: ErrorCode; message: string }
  /** The last page of a paged recovery (its publications are `pub` items before it). */
  | { kind: 'recovered'; channel: string; complete: boolean }
  | { kind: 'ping' }
  | { kind: 'other' }

/**
 * A one-way Server-Sent Events stream for plain `EventSource` and curl (`GET /sse?channel=…`):
 * the endpoint plays the client's part of the protocol (hello, one `sub` per channel) and this
 * transport turns the session's frames into SSE: each publication becomes `id:` (the stream
 * positions of every channel, so `Last-Event-ID` resumes them all), `event:` (the channel) and
 * `data:` (the JSON). Nothing is written until every subscription is answered: the response
 * is 200 with all of them active, or the first error's HTTP status and JSON body.
 *
 * Liveness: the peer never sends, so the transport answers the session's pings itself when the
 * `: ping` comment was handed to the socket; a peer that stops reading fills the buffer and is
 * closed as a slow consumer, one that goes away closes the response.
 */
export class SseTransport implements Transport {
  readonly kind = 'sse'
  sink: TransportSink | undefined
  private readonly positions: Positions = new Map()
  private readonly awaiting: Map<number, string>
  private held: Item[] | undefined = []
  private readonly recoveries: { channel: string; missed: number; complete: boolean }[] = []
  /** Publications recovered so far by paged recoveries, per channel. */
  private readonly paging = new Map<string, number>()
  private closed = false
  private closeReported = false

  constructor(
    private readonly res: ServerResponse,
    readonly remoteAddress: string,
    /** Subscribe request id → channel, as the endpoint sends them. */
    subscriptions: Map<number, string>,
  ) {
    this.awaiting = new Map(subscriptions)
  }

  send(frame: EncodedFrame): void {
    if (this.closed) return
    for (const item of frame.wireForm(SSE, toItems)) this.handle(item)
  }

  close(code: number, reason: string): void {
    if (this.closed) return
    // Closed before the stream opened (shutdown, handshake timeout): a plain 503.
    if (this.held) return this.fail('UNAVAILABLE', reason)
    this.closed = true
    this.res.end(`event: $closed\ndata: ${JSON.stringify({ code, reason })}\n\n`)
  }

  bufferedBytes(): number {
    return this.res.writableLength
  }

  /** The response went away (client closed, network error, or the end of a refused stream). */
  ended(): void {
    this.closed = true
    this.reportClose(1006, 'connection closed')
  }

  /** The sink hears of the end once, whichever way it came (fail, then the response's close). */
  private reportClose(code: number, reason: string): void {
    if (this.closeReported) return
    this.closeReported = true
    this.sink?.onClose(code, reason)
  }

  private handle(item: Item): void {
    if (this.held) {
      if (item.kind === 'err') return this.fail(item.code, item.message)
      if (item.kind === 'ok' && this.awaiting.has(item.id)) {
        this.subscribed(this.awaiting.get(item.id) as string, item.reply)
        this.awaiting.delete(item.id)
        if (this.awaiting.size === 0) this.open()
        return
      }
      if (item.kind === 'pub' || item.kind === 'recovered') this.held.push(item)
      return
    }
    switch (item.kind) {
      case 'recovered':
        this.res.write(`event: $recovered\ndata: ${JSON.stringify(this.endPaging(item))}\n\n`)
        return
      case 'pub':
        this.positions.set(item.channel, [item.offset, item.epoch])
        if (this.paging.has(item.channel)) this.paging.set(item.channel, (this.paging.get(item.channel) as number) + 1)
        this.res.write(`id: ${encodeEventId(this.positions)}\nevent: ${item.channel}\ndata: ${item.data}\n\n`)
        return
      case 'err':
        this.res.write(`event: $error\ndata: ${JSON.stringify({ code: item.code, message: item.message })}\n\n`)
        return
      case 'ping':
        this.res.write(': ping\n\n')
        this.sink?.onFrame('{"t":"pong"}')
        return
    }
  }

  /**
   * A subscription was answered: note its position and queue what recovery brought back. A
   * paged recovery (`more`) is counted on as its pages are written, up to its last page.
   */
  private subscribed(channel: string, reply: unknown): void {
    const r = reply as SubscribeReply
    const recovered = r.rec?.pubs ?? []
    const before = recovered.length > 0 ? (recovered[0] as { o: number }).o - 1 : r.o
    this.positions.set(channel, [before, r.e])
    const held = this.held as Item[]
    for (const p of recovered) {
      held.push({ kind: 'pub', channel, offset: p.o, epoch: r.e, data: JSON.stringify(p.d) })
    }
    if (r.rec?.more) this.paging.set(channel, 0)
    else if (r.rec) this.recoveries.push({ channel, missed: recovered.length, complete: r.rec.complete })
  }

  private endPaging(item: { channel: string; complete: boolean }) {
    const missed = this.paging.get(item.channel) ?? 0
    this.paging.delete(item.channel)
    return { channel: item.channel, missed, complete: item.complete }
  }

  private open(): void {
    const held = this.held as Item[]
    this.held = undefined
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    })
    this.res.write(`retry: ${RETRY_MS}\n\n`)
    for (const r of this.recoveries) this.res.write(`event: $recovered\ndata: ${JSON.stringify(r)}\n\n`)
    for (const item of held) this.handle(item)
  }

  /** Before the stream opened: answer with the error's status, and end the session. */
  private fail(code: ErrorCode, message: string): void {
    this.held = undefined
    this.closed = true
    if (!this.res.headersSent) {
      const body = JSON.stringify({ error: { code, message } })
      this.res.writeHead(errorCodes[code]?.http ?? 500, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      })
      this.res.end(body)
    } else {
      this.res.end()
    }
    this.reportClose(4500, message)
  }
}

/** Protocol frame (one message or a batch) → SSE items. The data JSON is re-serialised once. */
function toItems(text: string): Item[] {
  const value = JSON.parse(text) as unknown
  return (Array.isArray(value) ? value : [value]).flatMap(toItem)
}

function toItem(m: Record<string, unknown>): Item | Item[] {
  switch (m.t) {
    case 'recovery': {
      const page = m as unknown as RecoveryPageMessage
      const items: Item[] = page.pubs.map((p) => ({
        kind: 'pub',
        channel: page.ch,
        offset: p.o,
        epoch: page.e,
        data: JSON.stringify(p.d),
      }))
      if (!page.more) items.push({ kind: 'recovered', channel: page.ch, complete: page.complete === true })
      return items
    }
    case 'msg':
      return {
        kind: 'pub',
        channel: m.ch as string,
        offset: m.o as number,
        epoch: m.e as string,
        data: JSON.stringify(m.d),
      }
    case 'ok':
      return { kind: 'ok', id: m.id as number, reply: m.r }
    case 'err':
      return { kind: 'err', id: m.id as number | undefined, code: m.code as ErrorCode, message: m.msg as string }
    case 'ping':
      return { kind: 'ping' }
    default:
      return { kind: 'other' }
  }
}
