import type { QueryOptions, QueryRow } from '@switchboard/protocol'
import type { QueryService } from './query-service.js'

/** `server.records.query` for the embedding app: trusted, so permission rules do not apply. */
export interface ServerQueries {
  /** A one-off query: `[{ name, data, version }]` in query order. */
  query(collection: string, options?: QueryOptions): Promise<QueryRow[]>
}

export function serverQueries(queries: QueryService): ServerQueries {
  return {
    async query(collection, options = {}) {
      return queries.query(queries.parse(collection, options), null, true)
    },
  }
}
