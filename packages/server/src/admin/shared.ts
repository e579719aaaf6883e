// Shared by the server and the admin page (web/admin): no imports, so the page's build can take it.

/**
 * Names under this prefix belong to the admin view: its live channel and its RPC names. Only
 * admins may subscribe or call there, and no client may publish or provide, whatever the
 * permission rules say (see admin-policy.ts).
 */
export const ADMIN_PREFIX = 'switchboard/admin/'

/** The admin view's in-process RPC names. */
export const ADMIN_RPC = {
  snapshot: `${ADMIN_PREFIX}snapshot`,
  disconnect: `${ADMIN_PREFIX}disconnect`,
  publish: `${ADMIN_PREFIX}publish`,
} as const

/** What the admin view shows; JSON, published whole on every change. */
export interface AdminSnapshot {
  at: number
  /** The channel this node publishes its snapshots on. */
  live: string
  /** This node (`self`), then the cluster's other live nodes (what they hold is theirs to show). */
  nodes: { id: string; self: boolean; state: string; uptimeMs: number | null; connections: number | null }[]
  connections: {
    id: string
    user: string | null
    transport: string
    address: string
    since: number
    channels: string[]
    records: string[]
    provides: string[]
    bufferedBytes: number
  }[]
  /** Connections beyond the listed ones (the list is capped). */
  moreConnections: number
  channels: { name: string; subscribers: number; ratePerSecond: number; history: number }[]
  records: { name: string; subscribers: number }[]
  recentWrites: { name: string; version: number; deleted: boolean; at: number }[]
  queries: { collection: string; query: string; subscribers: number; rows: number }[]
  rpc: { name: string; providers: number }[]
  presence: { room: string; members: { user: string | null; client: string }[] }[]
}
