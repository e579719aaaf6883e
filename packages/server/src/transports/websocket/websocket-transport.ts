import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import type { EncodedFrame, Transport, TransportSink } from '../transport.js'

const WIRE = Symbol('websocket-frame')
/** After sending a close frame, a peer that does not answer is cut after this long. */
const CLOSE_GRACE_MS = 2_000

/**
 * A server-side WebSocket connection. Publications are framed once (header + payload in one
 * buffer cached on the shared EncodedFrame) and written straight to the TCP socket, which is
 * what `ws.send` would do per subscriber minus re-framing. Safe because permessage-deflate is
 * off, so ws's own sender never holds frames back that ours could overtake.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'websocket'
  sink: TransportSink | undefined
  private closing = false

  constructor(
    private readonly ws: WebSocket,
    /** Known at upgrade (per-address limits, proxies), or read from the socket on first use. */
    private address?: string,
  ) {}

  get remoteAddress(): string {
    return (this.address ??= rawSocket(this.ws)?.remoteAddress ?? 'unknown')
  }

  send(frame: EncodedFrame): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return
    const socket = rawSocket(this.ws)
    if (socket) socket.write(frame.wireForm(WIRE, frameText))
    else this.ws.send(frame.text)
  }

  close(code: number, reason: string): void {
    if (this.closing) return
    this.closing = true
    this.ws.close(code, truncateReason(reason))
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref()
  }

  bufferedBytes(): number {
    // The socket's queue is all there is: with permessage-deflate off ws buffers nothing itself.
    return rawSocket(this.ws)?.writableLength ?? this.ws.bufferedAmount
  }
}

/**
 * An unmasked, final text frame (RFC 6455 §5.2): header and payload in one buffer. Built here
 * rather than with ws's Sender.frame + Buffer.concat, which allocates three buffers and copies
 * the payload twice; this runs once per publication and once per reply.
 */
export function frameText(text: string): Buffer {
  const length = Buffer.byteLength(text)
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10
  const frame = Buffer.allocUnsafe(header + length)
  frame[0] = 0x81 // FIN + opcode 1 (text)
  if (length < 126) frame[1] = length
  else if (length < 65536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
  frame.write(text, header, 'utf8')
  return frame
}

function rawSocket(ws: WebSocket): Socket | undefined {
  return (ws as unknown as { _socket?: Socket })._socket
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
function truncateReason(reason: string): string {
  return Buffer.byteLength(reason) <= 123 ? reason : Buffer.from(reason).subarray(0, 120).toString() + '…'
}
