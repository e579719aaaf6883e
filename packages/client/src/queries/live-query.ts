import {
  compareSorted,
  sortValuesOf,
  type QueryChangeMessage,
  type QueryOptions,
  type QueryRowTuple,
  type SortKey,
  type QuerySubscribeReply,
  type RecordDocument,
  type SortValues,
} from '@switchboard/protocol'
import type { Connection } from '../connection/connection.js'
import { Emitter } from '../emitter.js'
import { SwitchboardError } from '../errors.js'
import { readySignal } from '../ready.js'

/** One row of a live query's result. */
export interface QueryResultRow<T extends RecordDocument = RecordDocument> {
  readonly name: string
  readonly data: T
  readonly version: number
}

/** The record names a change touched. */
export interface QueryChange {
  added: string[]
  removed: string[]
  changed: string[]
}

export interface LiveQueryEvents extends Record<string, unknown> {
  change: QueryChange
  error: SwitchboardError
}

interface Held<T extends RecordDocument> {
  row: QueryResultRow<T>
  values: SortValues
}

/**
 * A live query (`sb.query(collection, options)`): `rows` is the current result in query order
 * and follows every committed change; `subscribe` hears the whole result and 'change' the
 * names that moved. The server sends changes as rows that left and rows that entered or
 * changed; ordering is done here with the protocol's comparator, the same the server uses.
 * After a reconnect the query is sent again with the rows it holds (name and version), so the
 * server only sends data that changed, and the difference is reported as one change.
 */
export class LiveQuery<T extends RecordDocument = RecordDocument> extends Emitter<LiveQueryEvents> {
  /** Resolves with the first result; rejects with INVALID_DATA, PERMISSION_DENIED, … */
  readonly ready: Promise<void>
  /** The current result, in query order (a new array on every change). */
  rows: readonly QueryResultRow<T>[] = []
  /** Set once the query failed or the server ended it; it receives nothing more. */
  error: SwitchboardError | undefined
  readonly #settle: (error?: SwitchboardError) => void
  readonly #rowsHeld = new Map<string, Held<T>>()
  readonly #watchers = new Set<(rows: readonly QueryResultRow<T>[]) => void>()
  #loaded = false
  #closed = false
  /**
   * Changes that arrive while a `qsub` is unanswered. The answer is handled in a microtask,
   * after the rest of its batch frame, so changes sent after it could otherwise come first.
   */
  #held: QueryChangeMessage[] | undefined

  /** @internal */
  constructor(
    readonly collection: string,
    readonly options: QueryOptions,
    private readonly id: number,
    /** How rows are ordered here (the server checks the whole query). */
    private readonly orderBy: readonly SortKey[],
    private readonly conn: Connection,
    private readonly release: (query: LiveQuery<T>) => void,
  ) {
    super()
    const { ready, settle } = readySignal()
    this.ready = ready
    this.#settle = settle
  }

  /** Calls `fn` with the whole result on every change (the first result included). */
  subscribe(fn: (rows: readonly QueryResultRow<T>[]) => void): () => void {
    this.#watchers.add(fn)
    return () => this.#watchers.delete(fn)
  }

  /** Ends the query; its subscribers stop. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#watchers.clear()
    this.release(this)
    if (this.conn.state === 'connected' && !this.error) this.conn.request({ t: 'qunsub', q: this.id }).catch(() => {})
  }

  /** @internal Sends the query (again, after a reconnect, with the rows held). */
  send(): void {
    if (this.#closed || this.error) return
    const { where, orderBy, limit } = this.options
    const body: {
      t: 'qsub'
      q: number
      c: string
      w?: never
      o?: never
      l?: number
      k?: [string, number][]
    } = { t: 'qsub', q: this.id, c: this.collection }
    if (where) body.w = where as never
    if (orderBy) body.o = orderBy as never
    if (limit !== undefined) body.l = limit
    if (this.#loaded && this.#rowsHeld.size > 0)
      body.k = [...this.#rowsHeld.values()].map((h) => [h.row.name, h.row.version])
    this.#held = []
    this.conn.request<QuerySubscribeReply>(body).then(
      (reply) => {
        const changes = this.#held ?? []
        this.#held = undefined
        this.#result(reply)
        for (const m of changes) this.onChange(m)
      },
      (error: SwitchboardError) => {
        this.#held = undefined
        // A dropped connection is not a failure: the query is sent again after the reconnect.
        if (error.code !== 'DISCONNECTED' && error.code !== 'CLOSED') this.fail(error)
      },
    )
  }

  /** @internal */
  onChange(m: QueryChangeMessage): void {
    if (this.#closed) return
    if (this.#held) return void this.#held.push(m)
    if (!this.#loaded) return
    const before = new Map(this.#rowsHeld)
    if (m.all) this.#rowsHeld.clear()
    for (const name of m.rm ?? []) this.#rowsHeld.delete(name)
    for (const tuple of m.up ?? []) this.#hold(tuple)
    this.#publish(before, false)
  }

  /** @internal */
  fail(error: SwitchboardError): void {
    if (this.error || this.#closed) return
    this.error = error
    this.release(this)
    this.#settle(error)
    this.emit('error', error)
  }

  #result(reply: QuerySubscribeReply): void {
    if (this.#closed) return
    const before = new Map(this.#rowsHeld)
    this.#rowsHeld.clear()
    for (const tuple of reply.rows) {
      if (tuple.length === 3) this.#hold(tuple)
      else {
        const had = before.get(tuple[0])
        if (had) this.#rowsHeld.set(tuple[0], had)
      }
    }
    const first = !this.#loaded
    this.#loaded = true
    this.#publish(before, first)
    this.#settle()
  }

  #hold([name, version, data]: QueryRowTuple): void {
    this.#rowsHeld.set(name, {
      row: { name, version, data: data as T },
      values: sortValuesOf(this.orderBy, data),
    })
  }

  /** Orders the rows, reports what changed against `before`, tells subscribers (always for the first result). */
  #publish(before: Map<string, Held<T>>, first: boolean): void {
    const change: QueryChange = { added: [], removed: [], changed: [] }
    for (const [name, h] of this.#rowsHeld) {
      const old = before.get(name)
      if (!old) change.added.push(name)
      else if (old.row.version !== h.row.version) change.changed.push(name)
    }
    for (const name of before.keys()) if (!this.#rowsHeld.has(name)) change.removed.push(name)
    if (!first && change.added.length + change.removed.length + change.changed.length === 0) return
    const orderBy = this.orderBy
    this.rows = [...this.#rowsHeld.values()]
      .sort((a, b) => compareSorted(orderBy, a.values, a.row.name, b.values, b.row.name))
      .map((h) => h.row)
    for (const fn of [...this.#watchers]) {
      try {
        fn(this.rows)
      } catch (err) {
        setTimeout(() => {
          throw err
        })
      }
    }
    this.emit('change', change)
  }
}
