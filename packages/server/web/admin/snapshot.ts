/** What the server publishes (packages/server/src/admin/snapshot.ts). */
export interface AdminSnapshot {
  at: number
  /** The channel the node publishes its snapshots on. */
  live: string
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
  moreConnections: number
  channels: { name: string; subscribers: number; ratePerSecond: number; history: number }[]
  records: { name: string; subscribers: number }[]
  recentWrites: { name: string; version: number; deleted: boolean; at: number }[]
  queries: { collection: string; query: string; subscribers: number; rows: number }[]
  rpc: { name: string; providers: number }[]
  presence: { room: string; members: { user: string | null; client: string }[] }[]
}

export const ADMIN = {
  snapshot: 'switchboard/admin/snapshot',
  disconnect: 'switchboard/admin/disconnect',
  publish: 'switchboard/admin/publish',
} as const
