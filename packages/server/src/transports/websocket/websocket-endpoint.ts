import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { Transport, TransportSink } from '../transport.js'
import { WebSocketTransport } from './websocket-transport.js'

const TRANSPORT = Symbol('switchboard-transport')
const FRAGMENTS = Symbol('switchboard-fragments')
type TaggedSocket = WebSocket & { [TRANSPORT]?: WebSocketTransport; [FRAGMENTS]?: unknown[] }
/** The part of ws's (private) receiver that `reuseFragmentList` touches. */
type ReceiverInternals = { _fragments?: unknown }

/**
 * `GET /ws`: upgrades HTTP requests and hands each connection to `accept`. Listeners are shared
 * functions (no closure per connection) to keep idle connections cheap.
 */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer

  constructor(
    private readonly accept: (transport: Transport) => TransportSink,
    options: { maxPayload: number },
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: options.maxPayload,
    })
  }

  /**
   * Completes the handshake only to say why the connection is refused: an `err` frame with the
   * code (and `data`, e.g. `retryAfterMs`), then a close code from the catalogue. Browsers cannot read an HTTP status on a failed
   * upgrade, so this is how a refusal reaches the app.
   */
  refuse(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    error: { code: string; message: string; data?: unknown },
    closeCode: number,
  ): void {
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', onError)
      const m = { t: 'err', code: error.code, msg: error.message }
      ws.send(JSON.stringify(error.data === undefined ? m : { ...m, data: error.data }))
      ws.close(closeCode, error.message.slice(0, 120))
    })
  }

  /**
   * `remoteAddress`: the client address the caller already has (each read of a socket's peer
   * address is a syscall); without it the transport reads it on first use.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, remoteAddress?: string): void {
    this.wss.handleUpgrade(req, socket, head, (ws: TaggedSocket) => {
      const transport = new WebSocketTransport(ws, remoteAddress)
      ws[TRANSPORT] = transport
      transport.sink = this.accept(transport)
      ws.on('message', onMessage)
      ws.on('close', onClose)
      ws.on('error', onError)
    })
  }
}

function onMessage(this: TaggedSocket, data: RawData): void {
  reuseFragmentList(this)
  const sink = this[TRANSPORT]?.sink
  if (!sink) return
  sink.onFrame(Array.isArray(data) ? Buffer.concat(data).toString() : data.toString())
}

function onClose(this: TaggedSocket, code: number, reason: Buffer): void {
  this[TRANSPORT]?.sink?.onClose(code, reason.toString())
}

/**
 * ws's receiver gives itself a new, empty fragment list after every message (ws 8.23). On an
 * idle connection that list outlives two scavenges and is promoted; the next message pushes its
 * payload into it and the list is then dropped, dead in the old generation but still holding
 * young objects through the remembered set: the payload, its view and the whole read buffer
 * are promoted with it. With 100,000 connections answering pings that was ~300 bytes promoted
 * per pong, a scavenge pause of 7-20 ms every second and a full GC every few seconds (bench
 * many-idle). Handing the receiver one list of our own, emptied after each message, breaks the
 * chain. Only an empty list is replaced (a message is complete when 'message' fires; ws never
 * holds fragments of the next one then), and a ws without `_fragments` is left alone.
 */
export function reuseFragmentList(ws: TaggedSocket): void {
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver
  const current = receiver?._fragments
  if (!receiver || !Array.isArray(current) || current.length !== 0) return
  const own = (ws[FRAGMENTS] ??= [])
  own.length = 0
  receiver._fragments = own
}

/** ws closes the connection itself after protocol errors (bad frames, oversized payloads). */
function onError(): void {}
