/** What is occupied: a channel (subscribers of a channel name) or a record (subscribers of a record). */
export type OccupancyKind = 'channel' | 'record'

/**
 * A change every node hears:
 * - `occupied`: the name gained its first subscriber on any node;
 * - `vacated`: it lost its last one on every node (its claim, if any, is gone with it);
 * - `released`: its claim was released while it stays occupied (a listener left: another may claim it).
 */
export interface OccupancyEvent {
  kind: OccupancyKind
  name: string
  change: 'occupied' | 'vacated' | 'released'
}

/** Callbacks the occupancy registry makes into core. It never imports the server. */
export interface OccupancyHandler {
  onOccupancy(event: OccupancyEvent): void
  /**
   * An occupied/vacated transition this node caused other than by its own `enter`/`leave`: it
   * expired the holdings of a node that died, or held its names again after the registry lost
   * them (Redis restarted empty, or this node had been taken for dead). Made on exactly one
   * node per transition, like the `true` results of enter/leave, so hooks report it once.
   */
  onCaused(event: OccupancyEvent): void
}

/**
 * The cross-node seam for occupancy and listening (memory now, Redis next). Each node reports
 * the names it holds (it has at least one local subscriber); the registry knows which names are
 * held by any node, tells every node when that changes, and arbitrates which listener owns a
 * name (the claim), so that one listener per name is active in the whole cluster. Core keeps
 * everything about sessions, patterns and permissions; listener ids are opaque strings, unique
 * cluster-wide.
 *
 * Invariants (checked by the conformance suite in contract/occupancy.contract.ts):
 * - `enter(kind, name)` marks the name as held by this node; it resolves true when no node held
 *   it before (the name became occupied). `leave` resolves true when this node was the last
 *   holder (the name became vacant). Both are idempotent per node: entering twice holds once.
 * - Every started node (the caller included) hears `occupied` / `vacated` exactly once per
 *   transition, never synchronously inside the call that caused it; for one name, events arrive
 *   in the order of the transitions.
 * - `occupied(kind)` lists the names any node holds.
 * - `claim(kind, name, listenerId)` resolves true when the listener owns the name: it is
 *   occupied and was unclaimed (or already claimed by that listener). Otherwise false. A name
 *   has at most one owner; vacating it drops the owner.
 * - `release(kind, name, listenerId)` drops the claim if that listener holds it; when the name is
 *   still occupied, every node hears `released` (once), so another listener can claim it.
 * - Operations of one caller apply in the order they were called.
 * - `close()`: the node leaves every name it holds and releases every claim it made, with the
 *   events those cause heard by the other nodes; it hears nothing more. A shared implementation
 *   also expires the holdings and claims of a node that died (a TTL refreshed by live nodes),
 *   with the events that causes, and reports the names it vacated so (`onCaused`).
 * - A listener whose claim this node finds gone without a release of its own (its node was
 *   taken for dead, or the registry lost its data) hears `vacated` for it on this node only, so
 *   its owner is told the name ended; if the name is still occupied, `released` follows.
 */
export interface Occupancy {
  start(handler: OccupancyHandler): Promise<void>
  enter(kind: OccupancyKind, name: string): Promise<boolean>
  leave(kind: OccupancyKind, name: string): Promise<boolean>
  occupied(kind: OccupancyKind): Promise<string[]>
  claim(kind: OccupancyKind, name: string, listenerId: string): Promise<boolean>
  release(kind: OccupancyKind, name: string, listenerId: string): Promise<void>
  close(): Promise<void>
}
