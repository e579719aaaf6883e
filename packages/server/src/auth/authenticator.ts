/** Who a connection or HTTP request belongs to. `null` user = anonymous. */
export interface AuthUser {
  id: string
  [claim: string]: unknown
}

export interface Credentials {
  token?: string
  /** May be a getter (a connection's peer address is read from its socket only when asked): read or destructure it rather than copying the object. */
  remoteAddress: string
}

/** The outcome of a successful authentication. */
export interface AuthResult {
  /** `{ id, ...claims }`, or null for an allowed anonymous connection. */
  user: AuthUser | null
  /**
   * When the credentials stop being valid (epoch ms, clock tolerance included); a session
   * still using them then is closed with TOKEN_EXPIRED unless it sent a `refresh` first.
   */
  expiresAt?: number
  /**
   * What `expiresAt` means. Absent: the credentials are dead then (a JWT's `exp`): the session is
   * closed with 4004 TOKEN_EXPIRED and the client needs new ones. `'recheck'`: they are to be
   * checked again then (a webhook's answer ages out): the session is closed with 4009
   * SESSION_EXPIRED and the client reconnects at once with the same ones.
   */
  expiry?: 'recheck'
  /**
   * When the credentials were vouched for (epoch ms): a JWT's `iat`, the time of a webhook's
   * answer. A revocation (`server.revoke`) refuses credentials vouched for before it.
   */
  issuedAt?: number
}

/**
 * The auth seam. Invariants: resolves to the user (null for an allowed anonymous connection)
 * and when the credentials expire; rejects only with a SwitchboardError coded AUTH_FAILED or
 * TOKEN_EXPIRED; never sees sessions or sockets. Every call returns a fresh user object (the
 * permission cache is keyed by that object, so a refreshed session never reuses old answers).
 */
export interface Authenticator {
  /**
   * May return the result itself when no I/O is needed (an anonymous connection): the session
   * then opens in the same turn, without promise hops. Failures are always a rejected promise.
   */
  authenticate(credentials: Credentials): AuthResult | Promise<AuthResult>
}
