import type { AuthUser } from '../auth/authenticator.js'
import type { Session } from '../session/session.js'
import type { AdminSnapshot } from './shared.js'

export type { AdminSnapshot }

/** Read-only views of what the services know; each a small getter. */
export interface AdminSources {
  nodeId: string
  live: string
  state(): string
  startedAt: number
  now(): number
  sessions(): Iterable<Session>
  channelsOf(session: Session): ReadonlySet<string>
  /** Whether a session of this node is subscribed to the channel (exact name): one lookup, not a scan. */
  hasSubscribers(channel: string): boolean
  recordsOf(session: Session): ReadonlySet<string>
  providedBy(session: Session): ReadonlySet<string>
  joinedBy(session: Session): ReadonlyMap<string, unknown> | undefined
  /** The channel's stream position and how many publications its history holds. */
  channelStats(channel: string): Promise<{ offset: number; history: number }>
  /** The cluster's live nodes (cluster engines), or null on a single node. */
  liveNodes(): string[] | null
  recentWrites(): AdminSnapshot['recentWrites']
  queries(): AdminSnapshot['queries']
}

const MAX_CONNECTIONS = 500
const MAX_CHANNELS = 100
const MAX_ROWS = 200

/**
 * Builds snapshots from the sources. Keeps the previous stream position per channel to tell
 * the publication rate between two snapshots.
 */
export class SnapshotBuilder {
  private positions = new Map<string, { offset: number; at: number }>()

  constructor(private readonly sources: AdminSources) {}

  async build(): Promise<AdminSnapshot> {
    const src = this.sources
    const now = src.now()
    const connections: AdminSnapshot['connections'] = []
    const channelSubs = new Map<string, number>()
    const recordSubs = new Map<string, number>()
    const providers = new Map<string, number>()
    const rooms = new Map<string, { user: string | null; client: string }[]>()
    let total = 0
    for (const s of src.sessions()) {
      if (s.phase !== 'open') continue
      total++
      const channels = [...src.channelsOf(s)]
      const records = [...src.recordsOf(s)]
      const provides = [...src.providedBy(s)]
      for (const c of channels) if (!c.includes('*')) count(channelSubs, c)
      for (const r of records) count(recordSubs, r)
      for (const p of provides) count(providers, p)
      for (const room of src.joinedBy(s)?.keys() ?? []) {
        const list = rooms.get(room) ?? []
        list.push({ user: userId(s.user), client: s.id })
        rooms.set(room, list)
      }
      if (connections.length < MAX_CONNECTIONS) {
        connections.push({
          id: s.id,
          user: userId(s.user),
          transport: s.transport.kind,
          address: s.transport.remoteAddress,
          since: s.createdAt,
          channels,
          records,
          provides,
          bufferedBytes: s.outboundBytes(),
        })
      }
    }
    const top = [...channelSubs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_CHANNELS)
    const positions = new Map<string, { offset: number; at: number }>()
    const channels = await Promise.all(
      top.map(async ([name, subscribers]) => {
        const stats = await src.channelStats(name).catch(() => ({ offset: 0, history: 0 }))
        positions.set(name, { offset: stats.offset, at: now })
        const before = this.positions.get(name)
        const seconds = before ? (now - before.at) / 1000 : 0
        const ratePerSecond = seconds > 0 ? round((stats.offset - before!.offset) / seconds) : 0
        return { name, subscribers, ratePerSecond, history: stats.history }
      }),
    )
    this.positions = positions
    return {
      at: now,
      live: src.live,
      nodes: [
        { id: src.nodeId, self: true, state: src.state(), uptimeMs: now - src.startedAt, connections: total },
        ...(src.liveNodes() ?? [])
          .filter((id) => id !== src.nodeId)
          .sort()
          .map((id) => ({ id, self: false, state: 'live', uptimeMs: null, connections: null })),
      ],
      connections,
      moreConnections: total - connections.length,
      channels,
      records: sorted(recordSubs).map(([name, subscribers]) => ({ name, subscribers })),
      recentWrites: src.recentWrites(),
      queries: src.queries(),
      rpc: sorted(providers).map(([name, n]) => ({ name, providers: n })),
      presence: [...rooms]
        .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))
        .slice(0, MAX_ROWS)
        .map(([room, members]) => ({ room, members: members.slice(0, MAX_ROWS) })),
    }
  }
}

function userId(user: AuthUser | null): string | null {
  return user === null ? null : user.id
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}

function sorted(map: Map<string, number>): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_ROWS)
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
