/** How long a node remembers a revocation: longer than any sensible token lifetime. */
export const REVOCATION_MEMORY_MS = 24 * 60 * 60_000
/** Users remembered at most; past it the oldest revocations are forgotten first. */
const MAX_REVOKED = 100_000

/**
 * Users whose credentials were revoked, and when: credentials vouched for before the second of
 * the revocation (a JWT's `iat`, a webhook's answer) are refused for REVOCATION_MEMORY_MS, so
 * the user cannot come straight back with the token it had. Whole seconds, as `iat` is: a token
 * the app mints right after revoking (in the same second) is accepted.
 */
export class RevokedUsers {
  /** user id → second of the latest revocation, oldest first. */
  private readonly revoked = new Map<string, number>()

  constructor(private readonly now: () => number) {}

  add(userId: string, atMs: number): void {
    this.evict()
    const second = Math.floor(atMs / 1000)
    const known = this.revoked.get(userId)
    this.revoked.delete(userId)
    this.revoked.set(userId, Math.max(second, known ?? 0))
  }

  /** True when credentials of `userId` vouched for at `issuedAtMs` predate a revocation. */
  refuses(userId: string, issuedAtMs: number | undefined): boolean {
    const second = this.revoked.get(userId)
    if (second === undefined || issuedAtMs === undefined) return false
    if ((second + 1) * 1000 + REVOCATION_MEMORY_MS <= this.now()) return false
    return Math.floor(issuedAtMs / 1000) < second
  }

  private evict(): void {
    const oldest = Math.floor((this.now() - REVOCATION_MEMORY_MS) / 1000)
    for (const [user, second] of this.revoked) {
      if (second >= oldest && this.revoked.size < MAX_REVOKED) break
      this.revoked.delete(user)
    }
  }
}
