import type { WireMember } from '@switchboard/protocol'
import type { Session } from '../session/session.js'
import type { PresenceMember } from '../engine/presence-store.js'

/**
 * The watchers of one room and the changes waiting for the next batch window. Pure data: the
 * service decides when to flush and what to read from the store.
 *
 * A pending change keeps only the latest state of each client (joined/updated with its member,
 * or gone), so a window's diff is small and applying it is idempotent: a watcher whose snapshot
 * already includes some of those changes ends up in the same state.
 */
export class RoomWatch {
  /** Watchers that have their snapshot and get diffs (members) or counts. */
  readonly members = new Set<Session>()
  readonly counts = new Set<Session>()
  /** Watchers waiting for their first snapshot: true = counts only. */
  fresh = new Map<Session, boolean>()
  /** Latest state of each client changed in this window. */
  set = new Map<string, PresenceMember>()
  gone = new Set<string>()
  timer: ReturnType<typeof setTimeout> | undefined
  flushing = false
  /** The count last sent to counts-only watchers. */
  lastCount = -1
  /** Cluster: resolves once this node hears other nodes' changes to the room. */
  listening: Promise<void> | undefined

  constructor(readonly room: string) {}

  upsert(member: PresenceMember): void {
    this.gone.delete(member.clientId)
    this.set.set(member.clientId, member)
  }

  remove(clientId: string): void {
    this.set.delete(clientId)
    this.gone.add(clientId)
  }

  add(session: Session, countsOnly: boolean): void {
    this.members.delete(session)
    this.counts.delete(session)
    this.fresh.set(session, countsOnly)
  }

  delete(session: Session): void {
    this.members.delete(session)
    this.counts.delete(session)
    this.fresh.delete(session)
  }

  get watched(): boolean {
    return this.members.size > 0 || this.counts.size > 0 || this.fresh.size > 0
  }

  get hasWork(): boolean {
    return this.set.size > 0 || this.gone.size > 0 || this.fresh.size > 0
  }

  /** Takes this window's changes and fresh watchers; new ones collect for the next window. */
  take(): { set: Map<string, PresenceMember>; gone: Set<string>; fresh: Map<Session, boolean> } {
    const taken = { set: this.set, gone: this.gone, fresh: this.fresh }
    this.set = new Map()
    this.gone = new Set()
    this.fresh = new Map()
    return taken
  }
}

export function toWire(m: PresenceMember): WireMember {
  const w: WireMember = { u: m.userId, c: m.clientId }
  if (m.meta !== null && m.meta !== undefined) w.m = m.meta
  return w
}
