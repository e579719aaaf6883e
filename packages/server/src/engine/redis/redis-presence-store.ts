import type { Logger } from '../../log.js'
import type { JoinResult, PresenceMember, PresenceStore, SharedPresenceStore } from '../presence-store.js'
import type { RedisKeys } from './keys.js'
import { COUNT, EXPIRED, JOIN, LEAVE, MEMBERS, REFRESH } from './presence-scripts.js'
import type { RedisConnection } from './redis-connection.js'

interface StoredMember {
  u: string | null
  m: unknown
}

/** Members per REFRESH script call. */
const REFRESH_CHUNK = 500

/**
 * Presence shared by every node through Redis. A member joined without a ttl stays while its
 * node lives: the store keeps this node's members and refreshes their expiry (`refresh`, every
 * quarter of `memberTtlMs`), which also puts them back if Redis lost them. When a node dies its
 * members run out within `memberTtlMs`, and the nodes that watch their rooms remove them
 * (`expired`) and tell their watchers.
 *
 * The rooms of a client are kept by the node that holds the client (clients live on one node),
 * so `removeClient` needs no extra index in Redis. A removal that fails (Redis unreachable) is
 * not retried: the entry is no longer refreshed, runs out, and is removed and announced like
 * the members of a node that died.
 */
export class RedisPresenceStore implements PresenceStore, SharedPresenceStore {
  readonly sweepIntervalMs: number
  /** Members this node refreshes: room → clientId → member JSON. */
  private readonly refreshed = new Map<string, Map<string, string>>()
  /** Rooms of each client joined through this node. */
  private readonly roomsOf = new Map<string, Set<string>>()

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly memberTtlMs: number,
    private readonly log: Logger,
  ) {
    this.sweepIntervalMs = Math.max(Math.floor(memberTtlMs / 4), 50)
  }

  async join(room: string, member: PresenceMember, ttlMs?: number): Promise<JoinResult> {
    const json = JSON.stringify({ u: member.userId, m: member.meta ?? null } satisfies StoredMember)
    const { clientId } = member
    // Local bookkeeping first, in call order; Redis applies one room's operations in order too.
    let rooms = this.roomsOf.get(clientId)
    if (!rooms) this.roomsOf.set(clientId, (rooms = new Set()))
    rooms.add(room)
    let mine = this.refreshed.get(room)
    if (ttlMs === undefined) {
      if (!mine) this.refreshed.set(room, (mine = new Map()))
      mine.set(clientId, json)
    } else {
      this.unrefreshed(room, clientId)
    }
    const updated = await this.redis.script<number>(JOIN, this.roomKeys(room), [
      clientId,
      json,
      ttlMs ?? this.memberTtlMs,
    ])
    return updated === 1 ? 'updated' : 'joined'
  }

  async leave(room: string, clientId: string): Promise<PresenceMember | null> {
    this.unrefreshed(room, clientId)
    const rooms = this.roomsOf.get(clientId)
    if (rooms?.delete(room) && rooms.size === 0) this.roomsOf.delete(clientId)
    const json = await this.redis.script<string | null>(LEAVE, this.roomKeys(room), [clientId])
    return json === null ? null : toMember(clientId, json)
  }

  async members(room: string): Promise<PresenceMember[]> {
    const reply = await this.redis.script<string[]>(MEMBERS, this.roomKeys(room), [])
    const out: PresenceMember[] = []
    for (let i = 0; i < reply.length; i += 2) out.push(toMember(reply[i] as string, reply[i + 1] as string))
    return out
  }

  async count(room: string): Promise<number> {
    return this.redis.script<number>(COUNT, [this.keys.roomExpiry(room)], [])
  }

  async removeClient(clientId: string): Promise<string[]> {
    const rooms = this.roomsOf.get(clientId)
    if (!rooms) return []
    this.roomsOf.delete(clientId)
    const left: string[] = []
    await Promise.all(
      [...rooms].map(async (room) => {
        this.unrefreshed(room, clientId)
        try {
          if (await this.redis.script<string | null>(LEAVE, this.roomKeys(room), [clientId])) left.push(room)
        } catch (err) {
          this.log.warn({ err, room, client: clientId }, 'presence leave failed: the member runs out instead')
        }
      }),
    )
    return left
  }

  async expired(room: string): Promise<string[]> {
    return this.redis.script<string[]>(EXPIRED, this.roomKeys(room), [])
  }

  /** Extends the expiry of this node's members (and restores any Redis lost). */
  async refresh(): Promise<void> {
    const work: Promise<unknown>[] = []
    for (const [room, members] of this.refreshed) {
      const entries = [...members]
      for (let i = 0; i < entries.length; i += REFRESH_CHUNK) {
        const args: (string | number)[] = [this.memberTtlMs]
        for (const [clientId, json] of entries.slice(i, i + REFRESH_CHUNK)) args.push(clientId, json)
        work.push(this.redis.script(REFRESH, this.roomKeys(room), args))
      }
    }
    const results = await Promise.allSettled(work)
    const failure = results.find((r) => r.status === 'rejected')
    if (failure) this.log.warn({ err: failure.reason }, 'presence refresh failed (retried on the next heartbeat)')
  }

  async close(): Promise<void> {
    this.refreshed.clear()
    this.roomsOf.clear()
  }

  private roomKeys(room: string): string[] {
    return [this.keys.roomMembers(room), this.keys.roomExpiry(room)]
  }

  private unrefreshed(room: string, clientId: string): void {
    const members = this.refreshed.get(room)
    if (members?.delete(clientId) && members.size === 0) this.refreshed.delete(room)
  }
}

function toMember(clientId: string, json: string): PresenceMember {
  const stored = JSON.parse(json) as StoredMember
  return { userId: stored.u, clientId, meta: stored.m }
}
