import type { WireMember } from '@switchboard/protocol'
import { Emitter } from '../emitter.js'
import type { SwitchboardError } from '../errors.js'

/** One connection in a room. Several tabs of one user are several members with one userId. */
export interface PresenceMember {
  /** The user id, or null for anonymous connections. */
  userId: string | null
  /** The connection's client id (`sb.clientId` of that client). */
  clientId: string
  /** What that client passed to `join`, or null. */
  meta: unknown
}

export interface PresenceRoomEvents extends Record<string, unknown> {
  join: PresenceMember
  leave: PresenceMember
  update: PresenceMember
  error: SwitchboardError
}

/** What a room handle asks of the presence manager (which talks to the server). */
export interface RoomLink {
  join(room: PresenceRoom): Promise<void>
  leave(room: PresenceRoom): Promise<void>
  /** The watch mode changed (listeners added or removed). */
  watchChanged(room: PresenceRoom): void
}

/**
 * `sb.presence(channel)`: join with metadata, leave, and watch the members (or only their
 * number). The same handle is returned for the same channel; joins and watches are restored
 * after a reconnect.
 */
export class PresenceRoom extends Emitter<PresenceRoomEvents> {
  /** @internal Desired state: joined with this meta (undefined = not joined). */
  joinedWith: { meta: unknown } | undefined
  readonly #memberListeners = new Set<(members: PresenceMember[]) => void>()
  readonly #countListeners = new Set<(count: number) => void>()
  readonly #known = new Map<string, PresenceMember>()
  #snapshot = false
  #latestCount: number | null = null

  constructor(
    /** The channel, or null for the global room. */
    readonly channel: string | null,
    /** @internal The room name on the wire. */
    readonly room: string,
    private readonly link: RoomLink,
  ) {
    super()
  }

  /** Joins, or updates this client's metadata when already joined. */
  join(meta?: unknown): Promise<void> {
    this.joinedWith = { meta: meta === undefined ? null : meta }
    return this.link.join(this)
  }

  leave(): Promise<void> {
    this.joinedWith = undefined
    return this.link.leave(this)
  }

  /** The members as last received (empty until the first snapshot). */
  get members(): PresenceMember[] {
    return [...this.#known.values()]
  }

  /** The number of members as last received, or null before the first answer. */
  get count(): number | null {
    return this.#latestCount
  }

  /**
   * Calls `listener` with every current member once the server answered, then after every
   * change (changes are batched by the server, by default per 50 ms). Returns unsubscribe.
   */
  subscribe(listener: (members: PresenceMember[]) => void): () => void {
    this.#memberListeners.add(listener)
    if (this.#memberListeners.size === 1) this.link.watchChanged(this)
    else if (this.#snapshot) listener(this.members)
    return () => {
      if (this.#memberListeners.delete(listener) && this.#memberListeners.size === 0) this.link.watchChanged(this)
    }
  }

  /**
   * Counts only: calls `listener` with the number of members, not the list (cheap for large
   * rooms; the only way to watch rooms the server configures as counts-only). Returns unsubscribe.
   */
  subscribeCount(listener: (count: number) => void): () => void {
    this.#countListeners.add(listener)
    if (this.#countListeners.size === 1 && this.#memberListeners.size === 0) this.link.watchChanged(this)
    else if (this.#latestCount !== null) listener(this.#latestCount)
    return () => {
      if (this.#countListeners.delete(listener) && this.#countListeners.size === 0) this.link.watchChanged(this)
    }
  }

  /** @internal What to watch on the server: member lists, counts, or nothing. */
  get watchMode(): 'members' | 'counts' | null {
    if (this.#memberListeners.size > 0) return 'members'
    if (this.#countListeners.size > 0) return 'counts'
    return null
  }

  /** @internal A full list: replaces what was known; events for the differences. */
  applySnapshot(members: WireMember[]): void {
    const previous = new Map(this.#known)
    this.#known.clear()
    for (const w of members) {
      const m = fromWire(w)
      this.#known.set(m.clientId, m)
      const old = previous.get(m.clientId)
      previous.delete(m.clientId)
      if (!old) this.emit('join', m)
      else if (JSON.stringify(old.meta) !== JSON.stringify(m.meta) || old.userId !== m.userId) this.emit('update', m)
    }
    for (const gone of previous.values()) this.emit('leave', gone)
    this.#snapshot = true
    this.#changed()
  }

  /** @internal One window of changes. */
  applyDiff(joined: WireMember[] | undefined, left: string[] | undefined): void {
    for (const clientId of left ?? []) {
      const gone = this.#known.get(clientId)
      if (!gone) continue
      this.#known.delete(clientId)
      this.emit('leave', gone)
    }
    for (const w of joined ?? []) {
      const m = fromWire(w)
      const known = this.#known.has(m.clientId)
      this.#known.set(m.clientId, m)
      this.emit(known ? 'update' : 'join', m)
    }
    this.#changed()
  }

  /** @internal */
  applyCount(n: number): void {
    this.#latestCount = n
    for (const l of [...this.#countListeners]) safely(() => l(n))
  }

  /** @internal The watch ended (unsubscribed or refused): forget the list. */
  reset(): void {
    this.#known.clear()
    this.#snapshot = false
    this.#latestCount = null
  }

  /** @internal */
  failed(error: SwitchboardError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error)
  }

  #changed(): void {
    const list = this.members
    this.#latestCount = list.length
    for (const l of [...this.#memberListeners]) safely(() => l(list))
    for (const l of [...this.#countListeners]) safely(() => l(list.length))
  }
}

function fromWire(w: WireMember): PresenceMember {
  return { userId: w.u, clientId: w.c, meta: w.m === undefined ? null : w.m }
}

function safely(fn: () => void): void {
  try {
    fn()
  } catch (err) {
    setTimeout(() => {
      throw err
    })
  }
}
