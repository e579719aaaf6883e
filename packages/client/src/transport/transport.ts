import type { ErrorCode } from '@switchboard/protocol'

/** What the client needs from a transport: frames in and out, and one close notification. */
export interface ClientTransport {
  send(frame: string): void
  close(code?: number, reason?: string): void
}

/**
 * The server (or a proxy) answered with an HTTP status instead of a connection: a WebSocket
 * upgrade, or the `POST /connect` of the SSE and long-polling transports.
 */
export interface UpgradeRefusal {
  readonly status: number
  /** The Retry-After header, in ms, when there was one. */
  readonly retryAfterMs?: number | undefined
  /** The server's error code and message, when its answer carried them (`/connect` does). */
  readonly code?: ErrorCode | undefined
  readonly message?: string | undefined
}

export interface ClientTransportEvents {
  /**
   * The transport reached the server and can carry frames: the WebSocket is open, the event
   * stream's first event arrived, the long-polling session was created.
   */
  onOpen(): void
  /** One frame: its JSON text, or the value already parsed (long-polling parses its batches). */
  onFrame(frame: string | object): void
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

/** `fetch` as browsers, Node ≥ 18 and React Native provide it. */
export type FetchFunction = typeof fetch

/** The subset of the browser EventSource API the client uses; the `eventsource` package provides it in Node. */
export interface EventSourceLike {
  onmessage: ((event: { data: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  addEventListener(type: string, listener: (event: { data: string }) => void): void
  close(): void
}

export type EventSourceConstructor = new (url: string) => EventSourceLike
