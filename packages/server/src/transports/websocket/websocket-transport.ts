import type { Socket } from 'node:net'
import * as ws from 'ws'
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
    readonly remoteAddress: string,
  ) {}

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

/** ws's own framing routine (exported by ws, missing from @types/ws). */
const { Sender } = ws as unknown as {
  Sender: {
    frame(
      data: Buffer,
      options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean },
    ): Buffer[]
  }
}

function frameText(text: string): Buffer {
  const payload = Buffer.from(text)
  const parts = Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false })
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
}

function rawSocket(ws: WebSocket): Socket | undefined {
  return (ws as unknown as { _socket?: Socket })._socket
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
function truncateReason(reason: string): string {
  return Buffer.byteLength(reason) <= 123 ? reason : Buffer.from(reason).subarray(0, 120).toString() + '…'
}
