import type {
  LiveQuery,
  QueryOptions,
  QueryResultRow,
  RecordDocument,
  Switchboard,
  SwitchboardError,
} from '@switchboard/client'
import { useMemo, useSyncExternalStore } from 'react'
import { useSwitchboard } from './context.js'
import { leasedStore } from './leased-store.js'

export interface QueryState<T extends RecordDocument> {
  /** The current result in query order: `{ name, data, version }` per record. */
  readonly rows: readonly QueryResultRow<T>[]
  /** False until the first result arrived. */
  readonly ready: boolean
  /** Why the query failed: INVALID_DATA (a bad query), PERMISSION_DENIED, … */
  readonly error: SwitchboardError | null
}

const INITIAL: QueryState<never> = { rows: [], ready: false, error: null }

/**
 * A live query over a collection, re-rendered whenever its result changes. The options are
 * compared by value (JSON), so an inline object does not restart the query on every render.
 */
export function useQuery<T extends RecordDocument = RecordDocument>(
  collection: string,
  options: QueryOptions = {},
): QueryState<T> {
  const client = useSwitchboard()
  const key = JSON.stringify(options)
  const store = useMemo(
    () => queryStore<T>(client, collection, JSON.parse(key) as QueryOptions),
    [client, collection, key],
  )
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}

function queryStore<T extends RecordDocument>(client: Switchboard, collection: string, options: QueryOptions) {
  return leasedStore<QueryState<T>>(INITIAL, (update, current) => {
    const query: LiveQuery<T> = client.query<T>(collection, options)
    const stopRows = query.subscribe((rows) => update({ rows, ready: true, error: null }))
    const stopErrors = query.on('error', (error) => update({ ...current(), ready: false, error }))
    // A query that failed before anyone listened (a bad query is refused at once).
    if (query.error) update({ ...current(), error: query.error })
    return () => {
      stopRows()
      stopErrors()
      query.close()
    }
  })
}
