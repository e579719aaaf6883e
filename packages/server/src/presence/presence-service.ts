import {
  compilePattern,
  GLOBAL_ROOM,
  isValidName,
  jsonCodec,
  type NamePattern,
  type PresenceCountMessage,
  type PresenceDiffMessage,
  type PresenceSnapshotMessage,
} from '@switchboard/protocol'
import type { Logger } from 'pino'
import { SwitchboardError } from '../errors.js'
import type { Session } from '../session/session.js'
import { EncodedFrame } from '../transports/transport.js'
import type { Broker, Publication } from '../engine/broker.js'
import type { PresenceMember, PresenceStore, SharedPresenceStore } from '../engine/presence-store.js'
import { RoomWatch, toWire } from './room-watch.js'
import type { PresenceSessionState } from './session-state.js'

export interface PresenceOptions {
  /** Changes within this window reach watchers as one frame per room. */
  batchMs: number
  /** Rooms (channel patterns, or `$global`) whose watchers get counts, never member lists. */
  countsOnly: string[]
}

/**
 * Presence changes of one node travel to the others on these internal streams (no history):
 * `{ n: node id, j: member }` for a join or update, `{ n, l: client id }` for a leave.
 */
export const PRESENCE_STREAM_PREFIX = '$presence/'
const NO_HISTORY = { history: { size: 0, ttlMs: 0 } }

interface PresenceEvent {
  n: string
  j?: PresenceMember
  l?: string
}

/** With a store shared by several nodes: how this node hears and tells the others. */
export interface PresenceCluster {
  store: SharedPresenceStore
  broker: Broker
  nodeId: string
}

/**
 * Presence in core: joins and leaves go to the store; the results become per-room diffs that
 * are batched for `batchMs` and encoded once per window for all of the room's watchers. A
 * closed connection leaves every room it joined (no ghosts).
 *
 * With a shared store (cluster), each change is also announced on `$presence/<room>`; a node
 * listens to the rooms it watches, so other nodes' changes join the same batches, and it
 * removes (and announces) members that expired because their node died.
 */
export class PresenceService {
  private readonly watches = new Map<string, RoomWatch>()
  /** Joined and watched rooms, by session. */
  private readonly sessions = new Map<Session, PresenceSessionState>()
  private readonly countsOnly: ((room: string) => boolean)[]
  private closed = false
  private readonly sweepTimer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly store: PresenceStore,
    private readonly options: PresenceOptions,
    private readonly log: Logger,
    private readonly cluster?: PresenceCluster,
  ) {
    if (cluster) {
      this.sweepTimer = setInterval(() => this.sweepExpired(), cluster.store.sweepIntervalMs)
      this.sweepTimer.unref()
    }
    this.countsOnly = options.countsOnly.map((p): ((room: string) => boolean) => {
      if (p === GLOBAL_ROOM) return (room) => room === GLOBAL_ROOM
      const pattern: NamePattern = compilePattern(p)
      return (room) => room !== GLOBAL_ROOM && pattern.matches(room)
    })
  }

  /** Throws INVALID_NAME unless `room` is a channel name or the global room. */
  static check(room: string): void {
    if (room !== GLOBAL_ROOM && !isValidName(room))
      throw new SwitchboardError('INVALID_NAME', `invalid presence room: ${room}`)
  }

  isCountsOnly(room: string): boolean {
    return this.countsOnly.some((matches) => matches(room))
  }

  /** Joins, or updates the metadata when this connection is already in the room. */
  async join(session: Session, room: string, meta: unknown): Promise<void> {
    PresenceService.check(room)
    const member: PresenceMember = { userId: session.user?.id ?? null, clientId: session.id, meta: meta ?? null }
    this.state(session).joined.set(room, member.meta)
    await this.store.join(room, member)
    // Closed meanwhile: its cleanup (removeClient, queued after this join) takes it out again.
    if (session.phase !== 'closed') this.changedHere(room, member, null)
  }

  async leave(session: Session, room: string): Promise<void> {
    PresenceService.check(room)
    if (!this.sessions.get(session)?.joined.delete(room)) return
    const removed = await this.store.leave(room, session.id)
    if (removed) this.changedHere(room, null, session.id)
  }

  /** Starts (or switches the mode of) a watch; the snapshot follows with the next window. */
  watch(session: Session, room: string, countsOnly: boolean): void {
    PresenceService.check(room)
    if (!countsOnly && this.isCountsOnly(room)) {
      throw new SwitchboardError(
        'PERMISSION_DENIED',
        `presence room ${room} is counts-only: watch it with counts (room.subscribeCount)`,
      )
    }
    this.state(session).watching.set(room, countsOnly)
    let w = this.watches.get(room)
    if (!w) this.watches.set(room, (w = this.newWatch(room)))
    w.add(session, countsOnly)
    this.schedule(w)
  }

  unwatch(session: Session, room: string): void {
    if (!this.sessions.get(session)?.watching.delete(room)) return
    const w = this.watches.get(room)
    if (!w) return
    w.delete(session)
    this.dropIfUnwatched(w)
  }

  /** A connection closed: its watches end and it leaves every room it joined. */
  removeSession(session: Session): void {
    const st = this.sessions.get(session)
    if (!st) return
    for (const room of [...st.watching.keys()]) this.unwatch(session, room)
    this.sessions.delete(session)
    if (st.joined.size === 0) return
    st.joined.clear()
    this.store.removeClient(session.id).then(
      (rooms) => {
        for (const room of rooms) this.changedHere(room, null, session.id)
      },
      (err: unknown) => this.log.error({ err, client: session.id }, 'presence cleanup failed'),
    )
  }

  members(room: string): Promise<PresenceMember[]> {
    PresenceService.check(room)
    return this.store.members(room)
  }

  count(room: string): Promise<number> {
    PresenceService.check(room)
    return this.store.count(room)
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.sweepTimer)
    for (const w of [...this.watches.values()]) {
      clearTimeout(w.timer)
      this.forgetWatch(w)
    }
  }

  // ---- other nodes ----------------------------------------------------------------------

  /** A change announced on `$presence/<room>` (by any node; this node's own are already applied). */
  receive(publication: Publication): void {
    const event = publication.data as PresenceEvent
    if (!this.cluster || event.n === this.cluster.nodeId) return
    const room = publication.channel.slice(PRESENCE_STREAM_PREFIX.length)
    this.changed(room, event.j ?? null, event.l ?? null)
  }

  /** A change made through this node: batched for its watchers here, and announced to the others. */
  private changedHere(room: string, joined: PresenceMember | null, left: string | null): void {
    this.changed(room, joined, left)
    const cluster = this.cluster
    if (!cluster) return
    const event: PresenceEvent = { n: cluster.nodeId }
    if (joined) event.j = joined
    else if (left !== null) event.l = left
    cluster.broker
      .publish(PRESENCE_STREAM_PREFIX + room, event, NO_HISTORY)
      .catch((err: unknown) => this.log.warn({ err, room }, 'presence change could not be announced'))
  }

  /** Members whose node stopped refreshing them (it died) leave the rooms watched here. */
  private sweepExpired(): void {
    const cluster = this.cluster
    if (!cluster || this.closed) return
    for (const room of this.watches.keys()) {
      cluster.store.expired(room).then(
        (gone) => {
          for (const clientId of gone) this.changedHere(room, null, clientId)
        },
        (err: unknown) => this.log.warn({ err, room }, 'presence expiry sweep failed'),
      )
    }
  }

  private newWatch(room: string): RoomWatch {
    const w = new RoomWatch(room)
    if (this.cluster) {
      // Listening starts before the first snapshot is read (flushWindow waits for it), so no
      // change made elsewhere falls between the two.
      w.listening = this.cluster.broker.subscribe(PRESENCE_STREAM_PREFIX + room).catch((err: unknown) => {
        this.log.warn({ err, room }, 'listening to presence changes failed')
      })
    }
    return w
  }

  private forgetWatch(w: RoomWatch): void {
    if (this.watches.get(w.room) !== w) return
    this.watches.delete(w.room)
    if (!this.cluster) return
    this.cluster.broker
      .unsubscribe(PRESENCE_STREAM_PREFIX + w.room)
      .catch((err: unknown) => this.log.warn({ err, room: w.room }, 'presence unsubscribe failed'))
  }

  // ---- batching -------------------------------------------------------------------------

  private changed(room: string, joined: PresenceMember | null, left: string | null): void {
    const w = this.watches.get(room)
    if (!w) return // nobody watches: nothing to tell
    if (joined) w.upsert(joined)
    else if (left !== null) w.remove(left)
    this.schedule(w)
  }

  private schedule(w: RoomWatch): void {
    if (w.timer || w.flushing || this.closed) return
    w.timer = setTimeout(this.flush, this.options.batchMs, w)
  }

  private readonly flush = (w: RoomWatch): void => {
    w.timer = undefined
    w.flushing = true
    this.flushWindow(w)
      .catch((err: unknown) => this.log.error({ err, room: w.room }, 'presence flush failed'))
      .finally(() => {
        w.flushing = false
        if (this.watches.get(w.room) !== w) return
        if (!w.watched) this.forgetWatch(w)
        else if (w.hasWork) this.schedule(w)
      })
  }

  private async flushWindow(w: RoomWatch): Promise<void> {
    const { set, gone, fresh } = w.take()
    const changed = set.size > 0 || gone.size > 0
    // Watchers that already have a snapshot get this window's diff.
    if (changed && w.members.size > 0) {
      const diff: PresenceDiffMessage = { t: 'pdiff', r: w.room }
      if (set.size > 0) diff.j = [...set.values()].map(toWire)
      if (gone.size > 0) diff.l = [...gone]
      sendAll(w.members, diff)
    }
    const freshMembers: Session[] = []
    const freshCounts: Session[] = []
    for (const [session, countsOnly] of fresh) (countsOnly ? freshCounts : freshMembers).push(session)
    // New watchers get one snapshot read after the window closed: it includes this window's changes.
    if (freshMembers.length > 0) {
      if (w.listening) await w.listening
      const members = await this.store.members(w.room)
      const snap: PresenceSnapshotMessage = { t: 'psnap', r: w.room, m: members.map(toWire) }
      const frame = new EncodedFrame(jsonCodec.encode(snap) as string)
      for (const s of freshMembers) {
        if (!this.stillWatching(s, w, false)) continue
        s.enqueue(frame)
        w.members.add(s)
      }
    }
    if (freshCounts.length > 0 || (changed && w.counts.size > 0)) {
      const n = await this.store.count(w.room)
      const frame = new EncodedFrame(
        jsonCodec.encode({ t: 'pcount', r: w.room, n } satisfies PresenceCountMessage) as string,
      )
      if (n !== w.lastCount) for (const s of w.counts) s.enqueue(frame)
      w.lastCount = n
      for (const s of freshCounts) {
        if (!this.stillWatching(s, w, true)) continue
        s.enqueue(frame)
        w.counts.add(s)
      }
    }
  }

  /** A fresh watcher may have unwatched, switched mode or closed while the store answered. */
  private stillWatching(s: Session, w: RoomWatch, countsOnly: boolean): boolean {
    return (
      s.phase !== 'closed' &&
      this.sessions.get(s)?.watching.get(w.room) === countsOnly &&
      !w.fresh.has(s) &&
      this.watches.get(w.room) === w
    )
  }

  /** What a session joined and watches (undefined: nothing yet). */
  stateOf(session: Session): Readonly<PresenceSessionState> | undefined {
    return this.sessions.get(session)
  }

  private state(session: Session): PresenceSessionState {
    let st = this.sessions.get(session)
    if (!st) this.sessions.set(session, (st = { joined: new Map(), watching: new Map() }))
    return st
  }

  private dropIfUnwatched(w: RoomWatch): void {
    if (w.watched || w.flushing) return
    clearTimeout(w.timer)
    this.forgetWatch(w)
  }
}

function sendAll(sessions: Set<Session>, message: PresenceDiffMessage): void {
  const frame = new EncodedFrame(jsonCodec.encode(message) as string)
  for (const s of sessions) s.enqueue(frame)
}
