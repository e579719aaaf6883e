import type { AuthUser } from './authenticator.js'

/**
 * Trusted backends (API keys) bypass permission rules. Trust is a property of the user
 * *object* the API-key authenticator created, never of its claims: no token can say "I am a
 * backend", and a copied user object loses the trust (failing closed).
 */
const backends = new WeakSet<AuthUser>()

/** The user of a request made with an API key. */
export function createBackendUser(): AuthUser {
  const user: AuthUser = { id: 'backend' }
  backends.add(user)
  return user
}

export function isBackend(user: AuthUser | null): boolean {
  return user !== null && backends.has(user)
}
