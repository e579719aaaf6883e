import type { EncodedFrame, Transport, TransportSink } from '../transport.js'

/** The client end of an in-memory connection: frames as strings, close as a callback. */
export interface MemoryPeer {
  send(frame: string): void
  close(code?: number, reason?: string): void
  onFrame: (frame: string) => void
  onClose: (code: number, reason: string) => void
}

/**
 * A transport with no I/O at all, delivering frames asynchronously (a microtask) like a real
 * network would. Used by tests to prove the session core needs nothing from sockets.
 */
export function createMemoryTransport(remoteAddress = 'memory'): {
  transport: Transport & { sink?: TransportSink }
  peer: MemoryPeer
} {
  let closed = false
  const peer: MemoryPeer = {
    send(frame) {
      if (!closed) queueMicrotask(() => transport.sink?.onFrame(frame))
    },
    close(code = 1000, reason = '') {
      if (closed) return
      closed = true
      queueMicrotask(() => {
        transport.sink?.onClose(code, reason)
        peer.onClose(code, reason)
      })
    },
    onFrame: () => {},
    onClose: () => {},
  }
  const transport: Transport & { sink?: TransportSink } = {
    kind: 'memory',
    remoteAddress,
    send(frame: EncodedFrame) {
      if (!closed) {
        const text = frame.text
        queueMicrotask(() => peer.onFrame(text))
      }
    },
    close(code, reason) {
      if (closed) return
      closed = true
      queueMicrotask(() => {
        transport.sink?.onClose(code, reason)
        peer.onClose(code, reason)
      })
    },
    bufferedBytes: () => 0,
  }
  return { transport, peer }
}
