/**
 * Token refresh for long-lived connections: when `options.token` is a function, the client
 * reads the JWT's `exp` (without verifying it — only the server can) and, shortly before it,
 * calls the function again and sends the new token in a `refresh` message. If that fails, the
 * server closes the connection at expiry (close code TOKEN_EXPIRED) and the client reconnects with a
 * fresh token on its own. Browser-safe: no Node imports.
 */

/** The `exp` of a JWT in epoch milliseconds; undefined when the token is not a JWT or has none. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  let payload: unknown
  try {
    // atob yields the bytes as Latin-1: non-ASCII claims come out garbled but still valid JSON;
    // `exp` is a number. Without atob (very old React Native) there is no early refresh: the
    // server's TOKEN_EXPIRED close then makes the client reconnect with a fresh token.
    payload = JSON.parse(atob((parts[1] as string).replace(/-/g, '+').replace(/_/g, '/')))
  } catch {
    return undefined
  }
  const exp = (payload as { exp?: unknown } | null)?.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
}

/** How long before expiry to refresh: a fifth of the remaining lifetime, between 1 s and 60 s. */
export function refreshLead(remainingMs: number): number {
  return Math.min(60_000, Math.max(1000, remainingMs / 5))
}

export interface TokenRefresherDeps {
  fetchToken(): Promise<string>
  /** Sends `refresh` and resolves with the user the server authenticated. */
  sendRefresh(token: string): Promise<Record<string, unknown> | null>
  onRefreshed(user: Record<string, unknown> | null): void
  onError(error: unknown): void
  now?(): number
}

/** Schedules one refresh at a time for the token of the current connection. */
export class TokenRefresher {
  private timer: ReturnType<typeof setTimeout> | undefined
  private generation = 0

  constructor(private readonly deps: TokenRefresherDeps) {}

  /** Plans the refresh of `token` (the one the connection authenticated with, or the last refreshed one). */
  start(token: string | undefined): void {
    this.stop()
    const exp = token === undefined ? undefined : jwtExpiry(token)
    if (exp === undefined) return
    const remaining = exp - this.now()
    this.schedule(exp, Math.max(0, remaining - refreshLead(remaining)))
  }

  stop(): void {
    this.generation++
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(exp: number, delayMs: number): void {
    const generation = this.generation
    this.timer = setTimeout(() => void this.refresh(exp, generation), delayMs)
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  private async refresh(exp: number, generation: number): Promise<void> {
    try {
      const token = await this.deps.fetchToken()
      if (generation !== this.generation) return
      const next = jwtExpiry(token)
      if (next !== undefined && next <= exp)
        throw new Error('the token function returned a token that expires no later than the current one')
      const user = await this.deps.sendRefresh(token)
      if (generation !== this.generation) return
      this.deps.onRefreshed(user)
      this.start(token)
    } catch (err) {
      if (generation !== this.generation) return
      this.deps.onError(err)
      // Try again while the old token lives; after that, expiry and reconnect take over.
      const remaining = exp - this.now()
      if (remaining > 2000) this.schedule(exp, Math.max(1000, remaining / 2))
    }
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now()
  }
}
