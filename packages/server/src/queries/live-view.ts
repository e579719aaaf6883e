import { compileWhere, sortValuesOf, type Condition, type QueryRowTuple, type QuerySpec } from '@switchboard/protocol'
import type { QueryableStore, StoredRow } from '@switchboard/storage'
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
  /** Called in the same synchronous step as the member starts receiving diffs (rows: `view.rows`). */
  admitted(view: LiveView): void
  failed(error: Error): void
}

export interface ViewHost {
  readonly store: QueryableStore
  readonly log: Logger
  /** Which records the view holds and when it reads storage, so the feed routes changes right. */
  readonly routing: ViewRouting
  /**
   * The naive strategy, for benchmarks only: every change of the collection re-runs the query
   * in storage (changes that come while a re-run is in flight share the next one).
   */
  readonly rerun: boolean
  /** Nobody uses the view any more (no members, no joiners), or it failed. */
  released(view: LiveView): void
}

/** A `==` condition (its value is a scalar). */
export type EqualityCondition = Condition & { readonly op: '==' }

/** What a view tells its collection feed (see CollectionFeed: routing). */
export interface ViewRouting {
  held(view: LiveView, name: string): void
  released(view: LiveView, name: string): void
  /** While a view reads storage it must hear every change (it cannot know yet what it will hold). */
  reading(view: LiveView, on: boolean): void
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
  /**
   * The first `==` condition: a record whose value there differs concerns this view only while
   * the view holds it, so the feed skips the view for it (see CollectionFeed).
   */
  readonly equality: EqualityCondition | undefined
  /** The feed's batch counter when it last handed this view a change (dedupes routing). */
  stamp = 0
  private reading = false
  private closed = false
  /** Rerun strategy: a change came since the last re-run started. */
  private stale = false
  /** The visible rows as JSON, for the window's revision it was built at (shared by joiners). */
  private encoded: { revision: number; text: string } | undefined

  constructor(
    readonly key: string,
    readonly spec: QuerySpec,
    readonly audience: Audience,
    private readonly host: ViewHost,
  ) {
    this.match = compileWhere(spec.where)
    this.window = new SortedWindow(spec.orderBy, spec.limit, spec.limit + slackFor(spec.limit), {
      held: (name) => host.routing.held(this, name),
      released: (name) => host.routing.released(this, name),
    })
    // The naive strategy hears every change, as naive re-running would.
    this.equality = host.rerun ? undefined : spec.where.find((c): c is EqualityCondition => c.op === '==')
  }

  /** Loads the first window once `before` (the collection's change feed) is in place. */
  start(before: Promise<void>): void {
    void this.read(before)
  }

  /** Admits a member now (sending it the rows) or as soon as the window is complete. */
  join(member: ViewMember, admitted: (view: LiveView) => void, failed: (error: Error) => void): void {
    if (this.reading) this.joiners.push({ member, admitted, failed })
    else this.admit({ member, admitted, failed })
  }

  leave(member: ViewMember): void {
    this.members.delete(member)
    const i = this.joiners.findIndex((j) => j.member === member)
    if (i >= 0) this.joiners.splice(i, 1)
    if (this.members.size === 0 && this.joiners.length === 0) this.close()
  }

  /** Names of the rows the view holds (visible or slack). */
  heldNames(): IterableIterator<string> {
    return this.window.names()
  }

  /** The visible rows now (for members joining while idle). */
  get rows(): WindowRow[] {
    return this.window.visibleRows()
  }

  /**
   * The visible rows as a JSON array of `[name, version, data]`, built once per state of the
   * window: every member joining before the next change gets the same text (a first load of
   * 1,000 rows is serialised once, not once per subscriber).
   */
  encodedRows(): string {
    const revision = this.window.revision
    if (this.encoded?.revision !== revision) {
      const tuples = this.window.visibleRows().map((r): QueryRowTuple => [r.name, r.version, r.data])
      this.encoded = { revision, text: JSON.stringify(tuples) }
    }
    return this.encoded.text
  }

  apply(change: ResolvedChange): void {
    if (this.closed) return
    if (this.host.rerun) this.stale = true
    else if (this.reading) this.pending.push(change)
    else this.applyNow(change)
  }

  /** End of a batch of changes: refill if rows are missing, else send the diff. */
  settle(): void {
    if (this.reading || this.closed) return
    if (this.stale) void this.rerunQuery()
    else if (this.window.needsRefill) void this.read(undefined)
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
    this.setReading(true)
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
      this.setReading(false)
    }
    if (this.closed) return
    this.flush()
    for (const joiner of this.joiners.splice(0)) this.admit(joiner)
  }

  /**
   * The naive strategy: the whole result read again and the window replaced (the diff is what
   * changed), sent after every re-run; changes that came during a re-run share the next one.
   */
  private async rerunQuery(): Promise<void> {
    this.setReading(true)
    try {
      while (this.stale && !this.closed) {
        this.stale = false
        const read = await readReadable(
          this.host.store,
          this.spec,
          (row) => this.audience.canRead(row.name, row.version, row.data),
          this.spec.limit,
        )
        for (const name of [...this.window.names()]) this.window.remove(name)
        for (const row of read.rows) this.window.append(windowRow(row, this.spec))
        this.window.more = !read.exhausted
        this.flush()
      }
    } catch (err) {
      this.host.log.error({ err, query: this.key }, 'live query could not read storage')
      this.fail(err as Error)
      return
    } finally {
      this.setReading(false)
    }
    if (this.closed) return
    for (const joiner of this.joiners.splice(0)) this.admit(joiner)
  }

  private setReading(on: boolean): void {
    this.reading = on
    this.host.routing.reading(this, on)
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
      this.window.append(windowRow(row, this.spec))
    }
    this.window.more = !read.exhausted
  }

  private admit(joiner: Joiner): void {
    if (this.closed) return joiner.failed(new Error('the query view closed'))
    this.members.add(joiner.member)
    joiner.admitted(this)
  }

  /** Sends the visible rows' change to every member: encoded once, the member's id spliced in. */
  private flush(): void {
    // A stale encoding is not kept alive (a 1,000-row result is ~100 KB) until the next joiner.
    if (this.encoded?.revision !== this.window.revision) this.encoded = undefined
    // Nobody to tell (a first load before its members are admitted): no diff to work out.
    if (this.members.size === 0) return this.window.forgetDiff()
    const { removed, upserted } = this.window.takeDiff()
    if (removed.length === 0 && upserted.length === 0) return
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
    for (const joiner of this.joiners.splice(0)) joiner.failed(err)
    // Released with its members, so the service forgets their queries (they no longer count).
    this.close()
    this.members.clear()
  }
}

/** A row read from storage as the window keeps it (one object literal: no spread copy). */
function windowRow(row: StoredRow, spec: QuerySpec): WindowRow {
  return { name: row.name, version: row.version, data: row.data, values: sortValuesOf(spec.orderBy, row.data) }
}
