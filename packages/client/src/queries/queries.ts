import type { QueryOptions, RecordDocument, SortKey } from '@switchboard/protocol'
import type { Connection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import { LiveQuery } from './live-query.js'

/**
 * The order keys the client sorts rows by. The server validates the whole query (answering
 * INVALID_DATA naming the bad part), so the client only reads what it needs and keeps the
 * query language's parser out of the browser bundle.
 */
function sortKeysOf(options: QueryOptions): SortKey[] {
  const keys: SortKey[] = []
  for (const key of Array.isArray(options.orderBy) ? options.orderBy : []) {
    if (Array.isArray(key) && typeof key[0] === 'string') {
      keys.push({ path: key[0], segments: key[0].split('.'), desc: key[1] === 'desc' })
    }
  }
  return keys
}

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
    const query = new LiveQuery<T>(collection, options, id, sortKeysOf(options), this.conn, (q) => {
      if (this.open.get(id) === (q as unknown)) this.open.delete(id)
    })
    this.open.set(id, query as unknown as LiveQuery<RecordDocument>)
    if (this.conn.state === 'connected') query.send()
    return query
  }
}
