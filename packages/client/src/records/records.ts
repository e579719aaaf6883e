import { isValidName, type RecordDocument, type RecordSnapshotReply } from '@switchboard/protocol'
import type { Connection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import { RecordHandle } from './record-handle.js'
import { SharedRecord } from './shared-record.js'
import { UniqueIds } from '../ids.js'

/** `sb.records`: one-off operations that need no subscription. */
export interface RecordsApi {
  /** Reads a record once: `{ data, version }`, or null when it does not exist. */
  get<T extends RecordDocument = RecordDocument>(name: string): Promise<{ data: T; version: number } | null>
}

/**
 * The client's records: one shared local copy per name, reference-counted by handles. After
 * every (re)connect each open record resubscribes with the version it has (the server sends
 * the document only if it changed), before queued writes are sent again in order.
 */
export class Records implements RecordsApi {
  private readonly shared = new Map<string, { record: SharedRecord; handles: number }>()
  /** Write ids are unique per client instance. */
  private readonly writeIds = new UniqueIds()

  constructor(private readonly conn: Connection) {
    conn.push.rchg = (m) => this.shared.get(m.n)?.record.onChange(m)
    conn.push.rend = (m) => this.shared.get(m.n)?.record.fail(new SwitchboardError(m.code, m.msg))
    conn.onRestore(() => {
      for (const { record } of this.shared.values()) if (!record.error) record.subscribe()
    })
  }

  open<T extends RecordDocument>(name: string): RecordHandle<T> {
    let entry = this.shared.get(name)
    if (!entry || entry.record.error) {
      const record = new SharedRecord(name, this.conn, () => this.writeIds.next())
      entry = { record, handles: 0 }
      if (!isValidName(name)) record.fail(new SwitchboardError('INVALID_NAME', `invalid record name: ${name}`))
      else {
        this.shared.set(name, entry)
        if (this.conn.state === 'connected') record.subscribe()
      }
    }
    entry.handles++
    const owner = entry
    return new RecordHandle<T>(name, entry.record, () => this.release(name, owner))
  }

  async get<T extends RecordDocument = RecordDocument>(name: string): Promise<{ data: T; version: number } | null> {
    if (!isValidName(name)) throw new SwitchboardError('INVALID_NAME', `invalid record name: ${name}`)
    const r = await this.conn.request<RecordSnapshotReply>({ t: 'rget', n: name }, { queue: true })
    return r.d === undefined ? null : { data: r.d as T, version: r.v }
  }

  private release(name: string, entry: { record: SharedRecord; handles: number }): void {
    if (--entry.handles > 0 || this.shared.get(name) !== entry) return
    this.shared.delete(name)
    if (this.conn.state === 'connected' && !entry.record.error)
      this.conn.request({ t: 'runsub', n: name }).catch(() => {})
  }
}
