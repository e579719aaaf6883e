/**
 * Optional engine part for clusters: which client write ids were committed, and at which
 * version, known to every node. A client whose write was committed by a node that then died
 * before the acknowledgement got out resends the write (same write id) through another node;
 * that node finds it here and answers with the original version instead of applying it again.
 * Entries are kept for about a minute, like the node-local record of recent writes.
 */
export interface CommittedWrites {
  /** Records that write `key` committed as `version` (best effort; never throws). */
  remember(key: string, version: number): void
  /** The version `key` committed as, if some node remembered it; rejects if the engine is unreachable. */
  lookup(key: string): Promise<number | undefined>
}
