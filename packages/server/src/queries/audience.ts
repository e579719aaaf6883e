import type { AuthUser } from '../auth/authenticator.js'
import { isBackend } from '../auth/backend.js'
import { hasReadScopes, type AccessPolicy } from '../permissions/access-policy.js'

/**
 * The readers a live query evaluation serves: everyone whose `read` answers on the collection
 * are the same. Views with the same canonical query and audience are one view. The answer for
 * a record version is remembered, so views sharing an audience ask the rules once per change.
 */
export interface Audience {
  readonly key: string
  canRead(name: string, version: number, data: unknown): boolean
}

/** Why a reader gets no audience: no `read` rule covers the collection's records. */
export const NO_READ_RULE = null

/**
 * The audience of `user` for `collection`: trusted backends read everything; when the rules do
 * not depend on the user (policy capability `ReadScopes`), all readers share one audience;
 * otherwise each distinct user (id and claims) is its own. Null when no rule can allow reading.
 */
export function audienceFor(policy: AccessPolicy, collection: string, user: AuthUser | null): Audience | null {
  if (isBackend(user)) return { key: 'backend', canRead: () => true }
  const scope = hasReadScopes(policy) ? policy.collectionReadScope(collection) : 'per-user'
  if (scope === 'none') return NO_READ_RULE
  const reader = scope === 'shared' ? null : user
  return remembering(scope === 'shared' ? 'shared' : `user:${JSON.stringify(user)}`, (name, data) =>
    policy.allows({ kind: 'records', action: 'read', name, user: reader, old: data }),
  )
}

function remembering(key: string, allows: (name: string, data: unknown) => boolean): Audience {
  let lastName = ''
  let lastVersion = -1
  let lastAnswer = false
  return {
    key,
    canRead(name, version, data) {
      if (name !== lastName || version !== lastVersion) {
        lastAnswer = allows(name, data)
        lastName = name
        lastVersion = version
      }
      return lastAnswer
    },
  }
}
