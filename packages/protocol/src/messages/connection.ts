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
/**
 * Replaces the connection's token before it expires, without reconnecting. The server
 * re-authenticates (same user id required), re-checks every subscription and ends those no
 * longer allowed with `unsubbed` (PERMISSION_DENIED). Answer: `ok` with `RefreshReply`.
 */
export interface RefreshMessage {
  t: 'refresh'
  id: number
  token: string
}
export interface RefreshReply {
  /** `{ id, ...claims }` from the new token. */
  user: Record<string, unknown> | null
}
export type ConnectionClientMessage = HelloMessage | PingMessage | PongMessage | RefreshMessage

// ---- server → client
export interface WelcomeMessage {
  t: 'welcome'
  id: number
  v: number
  client: string
  /** `{ id, ...claims }` of the authenticated user, or null for anonymous connections. */
  user: Record<string, unknown> | null
  /**
   * Heartbeat settings (ms). `polls`: every long-polling request counts as hearing from the
   * client, so over long-polling it answers a ping by polling again, with no pong. Servers before
   * it did not hear polls: without it a client pongs on every transport.
   */
  hb: { interval: number; timeout: number; polls?: true }
  /** What this server refuses; a client can refuse the same before sending. */
  limits?: ServerLimits
}
/** Limits a server announces in its welcome (its `limits` config). */
export interface ServerLimits {
  /** Largest frame accepted, in UTF-8 bytes (`TOO_LARGE` beyond). */
  maxMessageBytes: number
  /** Deepest nesting of user data (`INVALID_DATA` beyond). */
  maxJsonDepth: number
  /** Most operations (increment + push + unset paths) in one record update (`INVALID_DATA` beyond). */
  maxUpdateOps: number
}
/**
 * The node is draining (a deploy): the server closes this connection right after, with 4008
 * DRAINING. The client reconnects after `after` ms (a per-client jitter), to its next URL.
 */
export interface DrainMessage {
  t: 'drain'
  /** Reconnect after this many ms. */
  after: number
}
export type ConnectionServerMessage = WelcomeMessage | PingMessage | PongMessage | DrainMessage
