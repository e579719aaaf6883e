import {
  applyMutation,
  type RecordChangeMessage,
  type RecordDocument,
  type RecordMutation,
  type RecordSnapshotReply,
  type RecordWriteReply,
} from '@switchboard/protocol'
import type { Connection, RequestBody } from '../connection/connection.js'
import type { SwitchboardError } from '../errors.js'
import { readySignal } from '../ready.js'

/** A write applied locally and not yet part of the confirmed server state. */
interface PendingWrite {
  w: string
  mutation: RecordMutation
  ifVersion: number | undefined
  /** The version it committed at, once acknowledged. */
  acked?: number
  /** The document after this write in the local chain (server state + pending writes up to here). */
  result?: RecordDocument | undefined
  /** Whether it applied locally (a write that cannot apply here leaves `result` as it was). */
  applied?: boolean
  resolve(result: { version: number }): void
  reject(error: SwitchboardError): void
}

/** Notified after every change of the local copy, with the copy before it. */
export interface RecordObserver {
  changed(previous: RecordDocument | undefined): void
  failed(error: SwitchboardError): void
}

/**
 * The one local copy of a record that every handle on that name shares. It keeps the
 * server's confirmed state (data + version) and the writes still in flight; the local data
 * the app sees is the confirmed state with those writes applied on top. Server changes arrive
 * in version order; a gap (a change that skips a version) triggers a re-read instead of being
 * applied out of order. While a snapshot is on its way, changes wait in a buffer.
 */
export class SharedRecord {
  /** The state the server confirmed. */
  #server: { version: number; data: RecordDocument | undefined } = { version: 0, data: undefined }
  #pending: PendingWrite[] = []
  /** The server state with the pending writes applied: what the app sees. */
  local: RecordDocument | undefined = undefined
  loaded = false
  error: SwitchboardError | undefined
  readonly ready: Promise<void>
  readonly observers = new Set<RecordObserver>()
  readonly #settleReady: (error?: SwitchboardError) => void
  /** Snapshot requests are numbered; only the latest one's answer counts. */
  #syncGeneration = 0
  /** True until the first snapshot, and while a re-read is on its way. */
  #syncing = true
  private buffered: RecordChangeMessage[] = []

  constructor(
    readonly name: string,
    private readonly conn: Connection,
    private readonly nextWriteId: () => string,
  ) {
    const signal = readySignal()
    this.ready = signal.ready
    this.#settleReady = signal.settle
  }

  /** The most operations the server takes in one update (announced in its welcome), if known. */
  get maxUpdateOps(): number | undefined {
    return this.conn.limits.maxUpdateOps
  }

  /** The confirmed version, or the newest acknowledged write's if its change has not arrived yet. */
  get version(): number {
    let v = this.#server.version
    for (const p of this.#pending) if (p.acked !== undefined && p.acked > v) v = p.acked
    return v
  }

  // ---- snapshots ---------------------------------------------------------------------------

  /** Subscribes (again, after a reconnect) telling the server what this copy already has. */
  subscribe(): void {
    const body: Extract<RequestBody, { t: 'rsub' }> = { t: 'rsub', n: this.name }
    if (this.loaded) body.v = this.#server.version
    const ids = this.#pending.map((p) => p.w)
    if (ids.length > 0) body.w = ids
    // Changes from before a reconnect are superseded by this snapshot.
    this.buffered = []
    this.#requestSnapshot(body)
  }

  #resync(): void {
    const body: Extract<RequestBody, { t: 'rget' }> = { t: 'rget', n: this.name }
    const ids = this.#pending.map((p) => p.w)
    if (ids.length > 0) body.w = ids
    this.#requestSnapshot(body)
  }

  #requestSnapshot(body: RequestBody): void {
    const generation = ++this.#syncGeneration
    this.#syncing = true
    this.conn.request<RecordSnapshotReply>(body).then(
      (reply) => {
        if (generation === this.#syncGeneration && !this.error) this.#applySnapshot(reply)
      },
      (error: SwitchboardError) => {
        // A dropped connection is not a failure: the record resubscribes on reconnect.
        if (error.code === 'DISCONNECTED' || error.code === 'CLOSED' || generation !== this.#syncGeneration) return
        this.fail(error)
      },
    )
  }

  #applySnapshot(reply: RecordSnapshotReply): void {
    const before = this.local
    this.#syncing = false
    if (!reply.same) this.#server = { version: reply.v, data: reply.d as RecordDocument | undefined }
    if (reply.w) {
      const included = new Set(reply.w)
      this.#pending = this.#pending.filter((p) => !included.has(p.w))
    }
    // The buffered changes below may confirm pending writes: their results must build on this snapshot.
    this.#settleAcked()
    this.#rebuild()
    const buffered = this.buffered
    this.buffered = []
    for (let i = 0; i < buffered.length; i++) {
      const intact = this.#applyChange(buffered[i] as RecordChangeMessage)
      if (this.#settleAcked() || !intact) this.#rebuild()
      if (this.#syncing) {
        // A gap: another snapshot is on its way; the rest waits for it, in order.
        this.buffered.push(...buffered.slice(i + 1))
        break
      }
    }
    this.#settleAcked()
    this.#recompute(before)
    if (!this.loaded) {
      this.loaded = true
      this.#settleReady()
    }
  }

  // ---- server changes ----------------------------------------------------------------------

  onChange(change: RecordChangeMessage): void {
    if (this.error) return
    if (this.#syncing) {
      this.buffered.push(change)
      return
    }
    const before = this.local
    const intact = this.#applyChange(change)
    if (this.#settleAcked() || !intact) this.#recompute(before)
  }

  /**
   * Applies one change to the confirmed state. Returns true when the local copy stays valid
   * without recomputing: nothing applied, or the change is this client's oldest pending write
   * confirmed in sequence (its local result becomes the confirmed state, so the app sees no
   * change at all, not even a new object).
   */
  #applyChange(change: RecordChangeMessage): boolean {
    const { version } = this.#server
    // A whole state (document or delete) may skip versions: the server coalesces a lagging
    // subscriber's changes into one. A missed partial change: re-read rather than apply out of order.
    if (change.v > version + 1 && (change.p !== undefined || change.ops)) {
      this.buffered.push(change)
      this.#resync()
      return true
    }
    const head = this.#pending[0]
    if (change.v === version + 1 && head?.applied && change.w !== undefined && head.w === change.w) {
      this.#server = { version: change.v, data: head.result }
      this.#pending.shift()
      return true
    }
    if (change.w !== undefined) this.#pending = this.#pending.filter((p) => p.w !== change.w)
    if (change.v <= version) return false
    try {
      this.#server = { version: change.v, data: applyMutation(this.#server.data, mutationOf(change)) }
    } catch {
      this.#resync()
    }
    return false
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Applies a write locally at once and sends it; resolves with the committed version. */
  write(mutation: RecordMutation, ifVersion: number | undefined): Promise<{ version: number }> {
    if (this.error) return Promise.reject(this.error)
    const promise = new Promise<{ version: number }>((resolve, reject) => {
      const op: PendingWrite = { w: this.nextWriteId(), mutation, ifVersion, resolve, reject }
      // On top of the local copy: the chain of pending writes grows by one, nothing is recomputed.
      const before = this.local
      try {
        op.result = applyMutation(before, mutation)
        op.applied = true
      } catch {
        op.result = before
        op.applied = false
      }
      this.#pending.push(op)
      this.local = op.result
      if (this.local !== before) for (const o of this.observers) o.changed(before)
      this.#send(op)
    })
    // Rejections also reach the record's 'error' listeners; an unawaited write must not crash the app.
    promise.catch(() => {})
    return promise
  }

  #send(op: PendingWrite): void {
    this.conn.request<RecordWriteReply>(writeBody(this.name, op), { queue: true }).then(
      (reply) => this.acked(op, reply.v),
      (error: SwitchboardError) => {
        // Sent but unanswered when the connection dropped: send it again with the same write id,
        // so the server applies it once whether or not the first attempt committed.
        if (error.code === 'DISCONNECTED') this.#send(op)
        else this.#rejected(op, error)
      },
    )
  }

  private acked(op: PendingWrite, version: number): void {
    op.acked = version
    const before = this.local
    if (this.#pending.includes(op) && this.#server.version >= version) {
      this.#pending = this.#pending.filter((p) => p !== op)
      this.#recompute(before)
    }
    op.resolve({ version })
  }

  #rejected(op: PendingWrite, error: SwitchboardError): void {
    const before = this.local
    this.#pending = this.#pending.filter((p) => p !== op)
    this.#recompute(before)
    for (const o of this.observers) o.failed(error)
    op.reject(error)
  }

  /** Acknowledged writes leave the pending list once the confirmed state includes them; true if any did. */
  #settleAcked(): boolean {
    const v = this.#server.version
    if (!this.#pending.some((p) => p.acked !== undefined && p.acked <= v)) return false
    this.#pending = this.#pending.filter((p) => p.acked === undefined || p.acked > v)
    return true
  }

  #recompute(before: RecordDocument | undefined): void {
    this.#rebuild()
    if (this.local !== before) for (const o of this.observers) o.changed(before)
  }

  /** Re-applies the pending writes on the confirmed state (each write's `result` is then current). */
  #rebuild(): void {
    let doc = this.#server.data
    for (const p of this.#pending) {
      try {
        doc = applyMutation(doc, p.mutation)
        p.applied = true
      } catch {
        // Cannot apply to this state; the server will answer it (and may see a different state).
        p.applied = false
      }
      p.result = doc
    }
    this.local = doc
  }

  /** The subscription failed for good (e.g. PERMISSION_DENIED): handles report it, writes fail. */
  fail(error: SwitchboardError): void {
    if (this.error) return
    this.error = error
    this.#settleReady(error)
    for (const o of this.observers) o.failed(error)
  }
}

function mutationOf(change: RecordChangeMessage): RecordMutation {
  if (change.del) return { kind: 'delete' }
  if (change.ops) return { kind: 'update', ops: change.ops }
  return change.p === undefined ? { kind: 'set', value: change.d } : { kind: 'set', path: change.p, value: change.d }
}

function writeBody(name: string, op: PendingWrite): RequestBody {
  const m = op.mutation
  const body: RequestBody =
    m.kind === 'delete'
      ? { t: 'rdel', n: name, w: op.w }
      : m.kind === 'update'
        ? { t: 'rupd', n: name, ops: m.ops, w: op.w }
        : m.path === undefined
          ? { t: 'rset', n: name, d: m.value, w: op.w }
          : { t: 'rset', n: name, p: m.path, d: m.value, w: op.w }
  if (op.ifVersion !== undefined) (body as { iv?: number }).iv = op.ifVersion
  return body
}
