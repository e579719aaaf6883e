import { hasReadScopes, type AccessPolicy, type ReadScopes } from '../permissions/access-policy.js'
import { ADMIN_PREFIX, isAdmin } from './admin-names.js'

/**
 * Guards the admin names in front of the configured policy: admins may subscribe to them, read
 * their history and call them; nobody may publish, read or write records, join, listen or
 * provide there from a client (the admin module publishes and handles them in process).
 * Pattern subscriptions (`switchboard/**`, `**`) are covered too: the channel service asks the
 * policy for each delivery's own channel. Every other name goes to `policy`, and so do its
 * capabilities (live queries' read scopes).
 */
export function guardAdminNames(policy: AccessPolicy): AccessPolicy & ReadScopes {
  const reserved = (name: string) => name.startsWith(ADMIN_PREFIX) || `${name}/` === ADMIN_PREFIX
  return {
    allows(request) {
      if (!reserved(request.name)) return policy.allows(request)
      const reading =
        (request.kind === 'channels' && (request.action === 'subscribe' || request.action === 'history')) ||
        (request.kind === 'rpc' && request.action === 'call')
      return reading && isAdmin(request.user)
    },
    collectionReadScope(collection) {
      if (reserved(collection)) return 'none'
      return hasReadScopes(policy) ? policy.collectionReadScope(collection) : 'per-user'
    },
  }
}
