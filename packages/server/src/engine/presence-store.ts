/** One connection in one room. */
export interface PresenceMember {
  /** The user id, or null for anonymous connections. */
  userId: string | null
  /** The connection's client id: several tabs of one user are several members. */
  clientId: string
  /** Whatever the client passed to join (JSON); null when nothing. */
  meta: unknown
}

export type JoinResult = 'joined' | 'updated'

/**
 * Who is in which room (memory now, Redis next). Stores state only: core turns the results of
 * these calls into events for watchers, and removes the members of a closed connection.
 *
 * Invariants (checked by the conformance suite in presence-store.contract.ts):
 * - A member is identified by (room, clientId). `join` adds it ('joined') or replaces its
 *   userId and meta ('updated'); a room never lists one clientId twice.
 * - `leave` removes it and resolves to the removed member, or null when it was not there.
 * - `members(room)` lists the current members (no order promised); `count(room)` is its length;
 *   an unknown room has none. Rooms are independent.
 * - `removeClient(clientId)` removes that client from every room and resolves to the rooms it
 *   was removed from (each once).
 * - `ttlMs` (optional, for stores shared by several nodes): an entry not joined again within
 *   `ttlMs` disappears by itself, so members of a node that died do not stay forever. Nodes
 *   that pass a ttl refresh their members by joining them again. Without ttl an entry stays
 *   until leave/removeClient.
 * - Operations of one caller apply in the order they were called.
 */
export interface PresenceStore {
  join(room: string, member: PresenceMember, ttlMs?: number): Promise<JoinResult>
  leave(room: string, clientId: string): Promise<PresenceMember | null>
  members(room: string): Promise<PresenceMember[]>
  count(room: string): Promise<number>
  removeClient(clientId: string): Promise<string[]>
  close(): Promise<void>
}

/**
 * Optional capability of stores that several nodes share (Redis): members joined through other
 * nodes are in the same rooms, so core announces its own changes to the other nodes (on the
 * `$presence/<room>` streams) and removes the expired members (of nodes that died) from the
 * rooms it watches. A store without it is private to its node.
 */
export interface SharedPresenceStore {
  /** How often core asks for the expired members of each room it watches. */
  readonly sweepIntervalMs: number
  /**
   * Removes the members of `room` whose ttl passed and returns their client ids; across all
   * nodes sharing the store, each expired member is returned once.
   */
  expired(room: string): Promise<string[]>
}

export function isSharedPresenceStore(store: PresenceStore): store is PresenceStore & SharedPresenceStore {
  return typeof (store as PresenceStore & Partial<SharedPresenceStore>).expired === 'function'
}
