import type { PublisherInfo, StreamPosition } from '@switchboard/protocol'

export interface Publication {
  channel: string
  data: unknown
  offset: number
  epoch: string
  publisher?: PublisherInfo
}

export interface HistoryOptions {
  /** Publications kept per channel; 0 keeps none (offsets still advance). */
  size: number
  /** How long a publication is kept, in ms; 0 = until pushed out by size. */
  ttlMs: number
}

export interface HistoryQuery {
  /** Exclusive: only publications after this position. A different epoch returns none. */
  since?: StreamPosition
  /** At most this many; with `since` the oldest after it, without it the newest. */
  limit: number
}

export interface HistoryResult {
  /** Oldest first. */
  publications: Publication[]
  /** The stream's current position (the last offset published and the epoch). */
  position: StreamPosition
  /**
   * With `since`: true when `publications` holds every publication after `since` (same epoch and
   * nothing trimmed in between, limit permitting). Without `since`: always true.
   */
  complete: boolean
}

/** How to publish: the channel's history, the publisher, and optionally an idempotency key. */
export interface PublishOptions {
  history: HistoryOptions
  publisher?: PublisherInfo
  /**
   * A publish whose `key` this channel already published within `windowMs` — on any node
   * sharing the broker — publishes nothing and resolves with that first publication's position.
   * This is how a client's resend after an ambiguous failure (its ack lost with the connection)
   * is delivered once.
   */
  idempotency?: { key: string; windowMs: number }
}

/** Callbacks a broker makes into core. The broker never imports the server. */
export interface BrokerHandler {
  /** Every publication on a channel this node subscribed to, in stream order, exactly once. */
  onPublication(publication: Publication): void
}

/**
 * The cross-node seam for channels (memory now, Redis next). It moves publications between
 * nodes and keeps history; local subscriptions, permission checks and fan-out stay in core.
 *
 * Invariants (checked by the conformance suite in broker.contract.ts):
 * - `publish` resolves with the publication's position once it is in history (when history is
 *   on); offsets of a channel increase by exactly 1 per publication within one epoch.
 * - Publications reach `onPublication` in offset order, once per publication, for channels (or
 *   patterns) this node subscribed to — including publications made by this same node. Order
 *   holds within one channel; two channels may arrive interleaved either way (cluster shards).
 * - `history` reflects every publication whose `publish` resolved.
 * - A stream whose history was lost (restart, expiry) comes back with a new epoch.
 * - A publish with an idempotency key the channel already published within its window (on any
 *   node) publishes nothing and resolves with the first one's position; checking and publishing
 *   are one atomic step, so two concurrent publishes with one key publish once.
 */
export interface Broker {
  start(handler: BrokerHandler): Promise<void>
  /**
   * Start receiving a channel's (or a `*`/`**` pattern's) publications on this node. Reference
   * counted: the node receives while more subscribes than unsubscribes were made, and every
   * subscribe — even one that failed — is matched by exactly one unsubscribe.
   * Patterns may cover internal streams too: `$records/todos/*` (live queries hear a whole collection).
   */
  subscribe(channel: string): Promise<void>
  unsubscribe(channel: string): Promise<void>
  publish(channel: string, data: unknown, options: PublishOptions): Promise<StreamPosition>
  history(channel: string, query: HistoryQuery, options: HistoryOptions): Promise<HistoryResult>
  close(): Promise<void>
}
