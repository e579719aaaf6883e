import type { QuerySpec } from '@switchboard/protocol'
import type { AdminSnapshot } from './snapshot.js'

/** The latest committed record writes on this node, newest first (a small ring). */
export class RecentWriteLog {
  private readonly writes: AdminSnapshot['recentWrites'] = []

  constructor(
    private readonly now: () => number,
    private readonly size = 20,
  ) {}

  /** A record-service observer's `committed` (data undefined: deleted). */
  committed(name: string, version: number, data: unknown): void {
    this.writes.unshift({ name, version, deleted: data === undefined, at: this.now() })
    if (this.writes.length > this.size) this.writes.pop()
  }

  list(): AdminSnapshot['recentWrites'] {
    return [...this.writes]
  }
}

/** `done == false, order by created desc, limit 50`: a query as one line for the admin view. */
export function describeQuery(spec: QuerySpec): string {
  const where = spec.where.map((c) => `${c.path} ${c.op} ${JSON.stringify(c.value)}`).join(' and ')
  const order = spec.orderBy.map((k) => `${k.path}${k.desc ? ' desc' : ''}`).join(', ')
  return [where && `where ${where}`, order && `order by ${order}`, `limit ${spec.limit}`].filter(Boolean).join(' · ')
}
