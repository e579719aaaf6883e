/** What the client needs from a transport: frames in and out, and one close notification. */
export interface ClientTransport {
  send(frame: string): void
  close(code?: number, reason?: string): void
}

/** The server (or a proxy) answered the upgrade with an HTTP status instead of accepting it. */
export interface UpgradeRefusal {
  readonly status: number
  /** The Retry-After header, in ms, when there was one. */
  readonly retryAfterMs?: number
}

export interface ClientTransportEvents {
  onOpen(): void
  onFrame(frame: string): void
  /**
   * Called exactly once, whoever closed. `refusal` when the transport could see that the
   * connection was refused with an HTTP status (Node's `ws` can; browsers hide it).
   */
  onClose(code: number, reason: string, refusal?: UpgradeRefusal): void
}

export type TransportFactory = (baseUrl: string, events: ClientTransportEvents) => ClientTransport

/** The HTTP answer `ws` hands to 'unexpected-response' listeners (an IncomingMessage). */
export interface UpgradeResponse {
  readonly statusCode?: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

/** The subset of the browser WebSocket API the client uses; `ws` in Node provides it too. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  /** Node's `ws` only: lets the client read the status of a refused upgrade. */
  on?(event: 'unexpected-response', listener: (request: unknown, response: UpgradeResponse) => void): unknown
}

export type WebSocketConstructor = new (url: string) => WebSocketLike
