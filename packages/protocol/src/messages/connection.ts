/** Connection-level messages: handshake and heartbeats. */

// ---- client → server
export interface HelloMessage {
  t: 'hello'
  id: number
  v: number
  token?: string
  /** Free-form client name and version, for logs. */
  agent?: string
}
export interface PingMessage {
  t: 'ping'
}
export interface PongMessage {
  t: 'pong'
}
export type ConnectionClientMessage = HelloMessage | PingMessage | PongMessage

// ---- server → client
export interface WelcomeMessage {
  t: 'welcome'
  id: number
  v: number
  client: string
  /** `{ id, ...claims }` of the authenticated user, or null for anonymous connections. */
  user: Record<string, unknown> | null
  hb: { interval: number; timeout: number }
}
export type ConnectionServerMessage = WelcomeMessage | PingMessage | PongMessage
