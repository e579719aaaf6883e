import type { AuthUser } from '../auth/authenticator.js'
import { isBackend } from '../auth/backend.js'
import { ADMIN_PREFIX } from './shared.js'

export { ADMIN_PREFIX, ADMIN_RPC } from './shared.js'

/**
 * Where a node publishes its snapshots while an admin connected to it watches: one channel per
 * node, so in a cluster each admin page follows the node it is connected to.
 */
export function adminLiveChannel(nodeId: string): string {
  return `${ADMIN_PREFIX}live/${nodeId.replace(/[^A-Za-z0-9_.:@-]/g, '_').slice(0, 200) || '_'}`
}
/** An API key (the trusted backend user) or a JWT whose `roles` claim includes "admin". */
export function isAdmin(user: AuthUser | null): boolean {
  if (user === null) return false
  if (isBackend(user)) return true
  const roles = user.roles
  return Array.isArray(roles) && roles.includes('admin')
}
