/**
 * The seam between sessions and the wire. A transport carries whole frames in both
 * directions; it knows nothing of messages, channels or users. WebSocket, SSE + POST,
 * long-polling and the in-memory test transport all implement it.
 *
 * Invariants (checked by `describeTransportContract` in transport.contract.ts, which every
 * transport runs; `@switchboard/server/contract`):
 * - `send` never throws and never blocks; after `close` (or after the peer went away) it is a no-op.
 * - Frames reach the peer in the order they were sent, and frames sent before `close` reach it
 *   before the close, with its code where the wire carries one (the session relies on this to
 *   deliver a final error).
 * - `bufferedBytes` counts bytes accepted by `send` but not yet handed to the OS: it grows while
 *   the peer does not read (slow-consumer detection reads it) and is 0 once the peer has everything.
 * - The sink's `onClose` is called exactly once, whoever closed.
 * - Frames reach `onFrame` in the order the peer sent them (transports whose peer can send).
 */
export interface Transport {
  /** Short name for logs and metrics: 'websocket', 'sse', 'longpoll', 'memory'. */
  readonly kind: string
  readonly remoteAddress: string
  send(frame: EncodedFrame): void
  close(code: number, reason: string): void
  bufferedBytes(): number
}

export interface TransportSink {
  onFrame(frame: string): void
  /**
   * The peer showed it is alive without a frame: a long-polling request. Counts as hearing from
   * it for the heartbeat, so a long-polling client answers no ping (its next poll is the answer).
   */
  onHeard(): void
  onClose(code: number, reason: string): void
}

/**
 * One encoded outbound frame, shared by every session it goes to. Transports cache their own
 * wire form on it (e.g. a WebSocket frame header + payload) so a publication is serialised and
 * framed once for all subscribers.
 */
export class EncodedFrame {
  // One slot covers the usual case (every subscriber on one transport kind) without a Map
  // lookup per delivery; other kinds share a small Map.
  private wireKey: symbol | undefined
  private wire: unknown
  private others: Map<symbol, unknown> | undefined
  constructor(readonly text: string) {}

  /** Returns the transport-specific form, building it on first use. */
  wireForm<T>(key: symbol, build: (text: string) => T): T {
    if (this.wireKey === key) return this.wire as T
    if (this.wireKey === undefined) {
      this.wireKey = key
      return (this.wire = build(this.text)) as T
    }
    const cached = this.others?.get(key)
    if (cached !== undefined) return cached as T
    const built = build(this.text)
    ;(this.others ??= new Map()).set(key, built)
    return built
  }

  /** Length in UTF-16 units: a cheap stand-in for bytes in buffer accounting. */
  get size(): number {
    return this.text.length
  }
}
