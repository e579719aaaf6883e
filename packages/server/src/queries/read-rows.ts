import { sortValuesOf, type QuerySpec } from '@switchboard/protocol'
import type { QueryableStore, QueryCursor, StoredRow } from '@switchboard/storage'

/** The most rows one storage read asks for while paging past rows the reader may not read. */
const MAX_PAGE = 1000

export interface ReadableRows {
  rows: StoredRow[]
  /** Storage has no further matching row after the last one read. */
  exhausted: boolean
}

/**
 * Up to `want` rows of the query that `canRead` allows, in query order, after `after`. The
 * filtering and ordering run in the store; only the rules run here, page by page (pages double
 * while the rules keep refusing rows; otherwise the next page is what is still wanted).
 */
export async function readReadable(
  store: QueryableStore,
  spec: QuerySpec,
  canRead: (row: StoredRow) => boolean,
  want: number,
  after?: QueryCursor,
): Promise<ReadableRows> {
  const rows: StoredRow[] = []
  let cursor = after
  let page = Math.max(1, Math.min(want, MAX_PAGE))
  for (;;) {
    const read = await store.query({
      collection: spec.collection,
      where: spec.where,
      orderBy: spec.orderBy,
      limit: page,
      ...(cursor && { after: cursor }),
    })
    let refused = 0
    for (const row of read) {
      if (!canRead(row)) {
        refused++
        continue
      }
      rows.push(row)
      if (rows.length === want) return { rows, exhausted: false }
    }
    const last = read[read.length - 1]
    if (read.length < page || !last) return { rows, exhausted: true }
    cursor = { values: sortValuesOf(spec.orderBy, last.data), name: last.name }
    // Every row readable: ask for exactly the rest (a 1,250-row window is 1,000 + 250 rows read,
    // not 1,000 + 1,000). Rows refused: the pages double, the rules may keep refusing.
    page = Math.min(refused === 0 ? want - rows.length : page * 2, MAX_PAGE)
  }
}
