import { parseQuery, type QueryOptions, type QuerySpec, type RecordDocument } from '@switchboard/protocol'
import type { Connection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import { LiveQuery } from './live-query.js'

/** The client checks a query's shape; the server applies its configured limits. */
const LOCAL_LIMITS = { maxResults: Number.MAX_SAFE_INTEGER, maxClauses: Number.MAX_SAFE_INTEGER }

/**
 * The client's live queries, by id. Each is sent when connected, again after every reconnect
 * (with the rows it holds), and ends with `close()` or a server `qend`.
 */
export class Queries {
  private readonly open = new Map<number, LiveQuery<RecordDocument>>()
  private nextId = 1

  constructor(private readonly conn: Connection) {
    conn.push.qchg = (m) => this.open.get(m.q)?.onChange(m)
    conn.push.qend = (m) => this.open.get(m.q)?.fail(new SwitchboardError(m.code, m.msg))
    conn.onRestore(() => {
      for (const query of this.open.values()) query.send()
    })
  }

  query<T extends RecordDocument>(collection: string, options: QueryOptions = {}): LiveQuery<T> {
    const id = this.nextId++
    let spec: QuerySpec | undefined
    let invalid: SwitchboardError | undefined
    try {
      spec = parseQuery(collection, options, LOCAL_LIMITS)
    } catch (err) {
      invalid = err instanceof SwitchboardError ? err : new SwitchboardError('INVALID_DATA', String(err))
    }
    const query = new LiveQuery<T>(collection, options, id, spec, this.conn, (q) => {
      if (this.open.get(id) === (q as unknown)) this.open.delete(id)
    })
    if (invalid) {
      query.fail(invalid)
      return query
    }
    this.open.set(id, query as unknown as LiveQuery<RecordDocument>)
    if (this.conn.state === 'connected') query.send()
    return query
  }
}
