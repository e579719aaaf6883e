/**
 * Plain counters the hot paths bump (one property increment each); the Prometheus registry
 * reads them when scraped, so nothing about metrics runs per message otherwise.
 */
export class ServerCounters {
  /** Validated client messages by type (`pub`, `rset`, `rpc`, …). */
  readonly received: Record<string, number> = Object.create(null) as Record<string, number>
  /** WebSocket/transport frames written (a batch of several messages is one frame). */
  framesSent = 0
  /** Channel publications that reached this node (from any node, through the engine). */
  publications = 0
  /** Committed record changes that reached this node. */
  recordChanges = 0
  /** Hook events by what became of them, and hook requests retried (see hooks/hook-sender.ts). */
  readonly hooks = { delivered: 0, dropped: 0, failed: 0, retries: 0 }
  /** Names that became occupied / vacant cluster-wide because of this node. */
  readonly occupancy = { occupied: 0, vacated: 0 }
  /** HTTP API requests by route family (`records`, `publish`, …) and status class. */
  readonly http: Record<string, number> = Object.create(null) as Record<string, number>

  countReceived(type: string): void {
    this.received[type] = (this.received[type] ?? 0) + 1
  }
}

/** Counts each valid message by type on its way to its handler. */
export function countingDispatch<S, M extends { t: string }, R>(
  counters: ServerCounters,
  dispatch: (session: S, message: M) => R,
): (session: S, message: M) => R {
  return (session, message) => {
    counters.countReceived(message.t)
    return dispatch(session, message)
  }
}
