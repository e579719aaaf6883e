import { compileWhere, sortValuesOf, type QueryRowTuple, type QuerySpec } from '@switchboard/protocol'
import type { QueryableStore } from '@switchboard/storage'
import type { Logger } from '../log.js'
import type { Session } from '../session/session.js'
import { EncodedFrame } from '../transports/transport.js'
import type { Audience } from './audience.js'
import { readReadable } from './read-rows.js'
import { SortedWindow, type WindowRow } from './window.js'

/** A committed state of one record of the collection; undefined data: deleted. */
export interface ResolvedChange {
  name: string
  version: number
  data: unknown
}

/** One live query of one connection (`q` is the client's id for it). */
export interface ViewMember {
  readonly session: Session
  readonly q: number
}

interface Joiner {
  member: ViewMember
  /** Called in the same synchronous step as the member starts receiving diffs. */
  admitted(rows: WindowRow[]): void
  failed(error: Error): void
}

export interface ViewHost {
  readonly store: QueryableStore
  readonly log: Logger
  /** Nobody uses the view any more (no members, no joiners), or it failed. */
  released(view: LiveView): void
}

/** Rows held beyond the visible limit, so a row that leaves is usually replaced from memory. */
export function slackFor(limit: number): number {
  return Math.min(250, Math.max(8, Math.ceil(limit / 4)))
}

/**
 * One shared evaluation of a live query: every connection whose query has the same canonical
 * form and the same audience is a member. Changes of the collection come in committed order
 * (`apply`, then `settle` once per batch); the predicate is compiled once; the window keeps the
 * first rows in order, refilled from storage (after its last row) when rows leave a full
 * window; each batch's diff of the visible rows is encoded once and sent to every member.
 *
 * While it reads storage (first load, refills) changes wait in `pending` and new members wait
 * in `joiners`, so members always see a complete window and every later change exactly once.
 */
export class LiveView {
  readonly members = new Set<ViewMember>()
  private readonly joiners: Joiner[] = []
  private readonly window: SortedWindow
  private readonly match: (doc: unknown) => boolean
  private readonly pending: ResolvedChange[] = []
  private busy = false
  private closed = false

  constructor(
    readonly key: string,
    readonly spec: QuerySpec,
    readonly audience: Audience,
    private readonly host: ViewHost,
  ) {
    this.match = compileWhere(spec.where)
    this.window = new SortedWindow(spec.orderBy, spec.limit, spec.limit + slackFor(spec.limit))
  }

  /** Loads the first window once `before` (the collection's change feed) is in place. */
  start(before: Promise<void>): void {
    void this.read(before)
  }

  /** Admits a member now (sending it the rows) or as soon as the window is complete. */
  join(member: ViewMember, admitted: (rows: WindowRow[]) => void, failed: (error: Error) => void): void {
    if (this.busy) this.joiners.push({ member, admitted, failed })
    else this.admit({ member, admitted, failed })
  }

  leave(member: ViewMember): void {
    this.members.delete(member)
    const i = this.joiners.findIndex((j) => j.member === member)
    if (i >= 0) this.joiners.splice(i, 1)
    if (this.members.size === 0 && this.joiners.length === 0) this.close()
  }

  /** The visible rows now (for members joining while idle). */
  get rows(): WindowRow[] {
    return this.window.visibleRows()
  }

  apply(change: ResolvedChange): void {
    if (this.closed) return
    if (this.busy) this.pending.push(change)
    else this.applyNow(change)
  }

  /** End of a batch of changes: refill if rows are missing, else send the diff. */
  settle(): void {
    if (this.busy || this.closed) return
    if (this.window.needsRefill) void this.read(undefined)
    else if (this.window.changed) this.flush()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.host.released(this)
  }

  private applyNow({ name, version, data }: ResolvedChange): void {
    const held = this.window.get(name)
    if (held && held.version >= version) return
    if (data !== undefined && this.match(data) && this.audience.canRead(name, version, data)) {
      this.window.offer({ name, version, data, values: sortValuesOf(this.spec.orderBy, data) })
    } else if (held) {
      this.window.remove(name)
    }
  }

  /** Reads storage until the window is complete, applying changes that came meanwhile. */
  private async read(before: Promise<void> | undefined): Promise<void> {
    this.busy = true
    try {
      if (before) await before
      while (this.window.needsRefill && !this.closed) {
        await this.fill()
        for (const change of this.pending.splice(0)) this.applyNow(change)
      }
    } catch (err) {
      this.host.log.error({ err, query: this.key }, 'live query could not read storage')
      this.fail(err as Error)
      return
    } finally {
      this.busy = false
    }
    if (this.closed) return
    this.flush()
    for (const joiner of this.joiners.splice(0)) this.admit(joiner)
  }

  /** One storage read after the last row held; rows the audience may not read are skipped. */
  private async fill(): Promise<void> {
    const last = this.window.last
    const read = await readReadable(
      this.host.store,
      this.spec,
      (row) => this.audience.canRead(row.name, row.version, row.data),
      this.window.capacity - this.window.size,
      last && { values: last.values, name: last.name },
    )
    for (const row of read.rows) {
      const held = this.window.get(row.name)
      if (held && held.version >= row.version) continue
      this.window.append({ ...row, values: sortValuesOf(this.spec.orderBy, row.data) })
    }
    this.window.more = !read.exhausted
  }

  private admit(joiner: Joiner): void {
    if (this.closed) return joiner.failed(new Error('the query view closed'))
    this.members.add(joiner.member)
    joiner.admitted(this.window.visibleRows())
  }

  /** Sends the visible rows' change to every member: encoded once, the member's id spliced in. */
  private flush(): void {
    const { removed, upserted } = this.window.takeDiff()
    if (this.members.size === 0 || (removed.length === 0 && upserted.length === 0)) return
    const body: { rm?: string[]; up?: QueryRowTuple[] } = {}
    if (removed.length > 0) body.rm = removed
    if (upserted.length > 0) body.up = upserted.map((r) => [r.name, r.version, r.data])
    const tail = JSON.stringify(body).slice(1)
    for (const { session, q } of this.members) session.enqueue(new EncodedFrame(`{"t":"qchg","q":${q},${tail}`))
  }

  private fail(err: Error): void {
    for (const { session, q } of this.members) {
      session.send({ t: 'qend', q, code: 'UNAVAILABLE', msg: 'the live query could not read storage; query again' })
    }
    this.members.clear()
    for (const joiner of this.joiners.splice(0)) joiner.failed(err)
    this.close()
  }
}
