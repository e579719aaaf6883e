/** Who a connection or HTTP request belongs to. `null` user = anonymous. */
export interface AuthUser {
  id: string
  [claim: string]: unknown
}

export interface Credentials {
  token?: string
  remoteAddress: string
}

/**
 * The auth seam. Invariants: resolves to the user (or null for an allowed anonymous
 * connection); rejects only with a SwitchboardError coded AUTH_FAILED or TOKEN_EXPIRED;
 * never sees sessions or sockets.
 */
export interface Authenticator {
  authenticate(credentials: Credentials): Promise<AuthUser | null>
}
