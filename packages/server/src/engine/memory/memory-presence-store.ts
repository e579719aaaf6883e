import type { JoinResult, PresenceMember, PresenceStore } from '../presence-store.js'

interface Entry {
  member: PresenceMember
  /** Epoch ms after which the entry is gone; Infinity without ttl. */
  expiresAt: number
}

interface Room {
  entries: Map<string, Entry>
  /** Entries with a ttl; rooms without any skip the expiry scan. */
  expiring: number
}

/** The single-node presence store: two maps. Expired entries are dropped lazily, on access. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly rooms = new Map<string, Room>()
  private readonly clients = new Map<string, Set<string>>()

  constructor(private readonly now: () => number = Date.now) {}

  async join(room: string, member: PresenceMember, ttlMs?: number): Promise<JoinResult> {
    let r = this.rooms.get(room)
    if (!r) this.rooms.set(room, (r = { entries: new Map(), expiring: 0 }))
    const now = this.now()
    const old = r.entries.get(member.clientId)
    if (old && old.expiresAt !== Infinity) r.expiring--
    const expiresAt = ttlMs === undefined ? Infinity : now + ttlMs
    if (expiresAt !== Infinity) r.expiring++
    r.entries.set(member.clientId, { member: { ...member }, expiresAt })
    let rooms = this.clients.get(member.clientId)
    if (!rooms) this.clients.set(member.clientId, (rooms = new Set()))
    rooms.add(room)
    return old && old.expiresAt > now ? 'updated' : 'joined'
  }

  async leave(room: string, clientId: string): Promise<PresenceMember | null> {
    return this.remove(room, clientId)
  }

  async members(room: string): Promise<PresenceMember[]> {
    const r = this.purged(room)
    if (!r) return []
    const out: PresenceMember[] = []
    for (const e of r.entries.values()) out.push({ ...e.member })
    return out
  }

  async count(room: string): Promise<number> {
    return this.purged(room)?.entries.size ?? 0
  }

  async removeClient(clientId: string): Promise<string[]> {
    const rooms = this.clients.get(clientId)
    if (!rooms) return []
    const left: string[] = []
    for (const room of [...rooms]) if (this.remove(room, clientId)) left.push(room)
    this.clients.delete(clientId)
    return left
  }

  async close(): Promise<void> {
    this.rooms.clear()
    this.clients.clear()
  }

  private remove(room: string, clientId: string): PresenceMember | null {
    const r = this.rooms.get(room)
    const e = r?.entries.get(clientId)
    if (!r || !e) return null
    r.entries.delete(clientId)
    if (e.expiresAt !== Infinity) r.expiring--
    if (r.entries.size === 0) this.rooms.delete(room)
    const rooms = this.clients.get(clientId)
    if (rooms) {
      rooms.delete(room)
      if (rooms.size === 0) this.clients.delete(clientId)
    }
    return e.expiresAt > this.now() ? e.member : null
  }

  /** The room with its expired entries dropped. */
  private purged(room: string): Room | undefined {
    const r = this.rooms.get(room)
    if (!r || r.expiring === 0) return r
    const now = this.now()
    for (const [clientId, e] of r.entries) if (e.expiresAt <= now) this.remove(room, clientId)
    return this.rooms.get(room)
  }
}
