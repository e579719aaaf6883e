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

/**
 * How the `read` answers for a collection's records depend on the reader: `none` — no rule can
 * allow reading any of them; `shared` — the answers do not depend on the user (rules read only
 * the record and its name); `per-user` — they may.
 */
export type CollectionReadScope = 'none' | 'shared' | 'per-user'

/**
 * Optional capability: tells live queries whether readers of a collection can share one
 * evaluation. A policy without it is treated as `per-user` for every collection.
 */
export interface ReadScopes {
  collectionReadScope(collection: string): CollectionReadScope
}

export function hasReadScopes(policy: AccessPolicy): policy is AccessPolicy & ReadScopes {
  return typeof (policy as AccessPolicy & Partial<ReadScopes>).collectionReadScope === 'function'
}

/** Development mode with no permissions file: every action allowed (the server warns loudly). */
export const allowAll: AccessPolicy & ReadScopes = { allows: () => true, collectionReadScope: () => 'shared' }
