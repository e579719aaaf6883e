import type { AuthUser } from '../auth/authenticator.js'

export type AccessRequest =
  | {
      kind: 'channels'
      action: 'subscribe' | 'publish' | 'history' | 'listen'
      name: string
      user: AuthUser | null
      data?: unknown
    }
  | {
      kind: 'records'
      action: 'read' | 'write' | 'delete' | 'listen'
      name: string
      user: AuthUser | null
      data?: unknown
      old?: unknown
    }
  | { kind: 'rpc'; action: 'provide' | 'call'; name: string; user: AuthUser | null; data?: unknown }
  | { kind: 'presence'; action: 'join' | 'read'; name: string; user: AuthUser | null; data?: unknown }

/**
 * The permission seam. Synchronous on purpose: checks run in each session's inbound order and
 * must be cheap; anything a rule needs (e.g. the old record) is fetched before asking.
 */
export interface AccessPolicy {
  allows(request: AccessRequest): boolean
}

/** Development mode with no permissions file: every action allowed (the server warns loudly). */
export const allowAll: AccessPolicy = { allows: () => true }
