import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { Transport, TransportSink } from '../transport.js'
import { WebSocketTransport } from './websocket-transport.js'

const TRANSPORT = Symbol('switchboard-transport')
type TaggedSocket = WebSocket & { [TRANSPORT]?: WebSocketTransport }

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

  /** `remoteAddress`: the peer address the caller already read (each read is a syscall). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, remoteAddress?: string): void {
    this.wss.handleUpgrade(req, socket, head, (ws: TaggedSocket) => {
      const transport = new WebSocketTransport(ws, remoteAddress ?? req.socket.remoteAddress ?? 'unknown')
      ws[TRANSPORT] = transport
      transport.sink = this.accept(transport)
      ws.on('message', onMessage)
      ws.on('close', onClose)
      ws.on('error', onError)
    })
  }
}

function onMessage(this: TaggedSocket, data: RawData): void {
  const sink = this[TRANSPORT]?.sink
  if (!sink) return
  sink.onFrame(Array.isArray(data) ? Buffer.concat(data).toString() : data.toString())
}

function onClose(this: TaggedSocket, code: number, reason: Buffer): void {
  this[TRANSPORT]?.sink?.onClose(code, reason.toString())
}

/** ws closes the connection itself after protocol errors (bad frames, oversized payloads). */
function onError(): void {}
