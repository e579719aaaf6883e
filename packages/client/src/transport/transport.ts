/** What the client needs from a transport: frames in and out, and one close notification. */
export interface ClientTransport {
  send(frame: string): void
  close(code?: number, reason?: string): void
}

export interface ClientTransportEvents {
  onOpen(): void
  onFrame(frame: string): void
  /** Called exactly once, whoever closed. */
  onClose(code: number, reason: string): void
}

export type TransportFactory = (baseUrl: string, events: ClientTransportEvents) => ClientTransport

/** The subset of the browser WebSocket API the client uses; `ws` in Node provides it too. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
}

export type WebSocketConstructor = new (url: string) => WebSocketLike
