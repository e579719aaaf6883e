/**
 * Every Redis key and pub/sub channel name the engine uses, under one prefix. The part in
 * braces is the hash tag: on Redis Cluster, everything about one stream, room or RPC name lives
 * in one slot, so each Lua script touches one shard and sharded pub/sub (SPUBLISH) delivers from
 * that same shard. Names (`[A-Za-z0-9_.:@-/]`, `$` for internal streams) never contain braces.
 */
export class RedisKeys {
  private readonly globPrefix: string

  constructor(readonly prefix: string) {
    this.globPrefix = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
  }

  // ---- channels (streams) --------------------------------------------------------------

  /** Pub/sub channel of a stream. */
  channel(channel: string): string {
    return `${this.prefix}{c:${channel}}`
  }

  /** The stream name back from its pub/sub channel, or undefined if it is not one. */
  channelName(pubsubChannel: string): string | undefined {
    const head = this.prefix.length + 3
    if (!pubsubChannel.startsWith(`${this.prefix}{c:`) || !pubsubChannel.endsWith('}')) return undefined
    return pubsubChannel.slice(head, -1)
  }

  /**
   * The PSUBSCRIBE glob for a channel pattern. Redis's `*` also matches `/`, so the glob is
   * wider than the pattern (the broker filters); a leading `*` never matches internal `$` streams.
   */
  channelGlob(pattern: string): string {
    const glob = pattern.replace(/\*\*/g, '*').replace(/^\*/, '[^$]*')
    return `${this.globPrefix}{c:${glob}}`
  }

  /** Stream metadata: hash { e: epoch, o: last offset, h: history may exist }. */
  streamMeta(channel: string): string {
    return `${this.prefix}{c:${channel}}:meta`
  }

  /** A publication's idempotency key on a stream: `<offset> <epoch>` of its first publication, for its window. */
  streamIdempotency(channel: string, key: string): string {
    return `${this.prefix}{c:${channel}}:idem:${key}`
  }

  /** Stream history: a list of `<ms> <payload>`, oldest first, offsets contiguous up to the last. */
  streamHistory(channel: string): string {
    return `${this.prefix}{c:${channel}}:hist`
  }

  /** Cluster only: set of `<nodeId> <pattern>` of every pattern subscription, so publishers know to PUBLISH too. */
  get patterns(): string {
    return `${this.prefix}{patterns}`
  }

  // ---- nodes ---------------------------------------------------------------------------

  /** Sorted set of live node ids, scored by the time their heartbeat expires. */
  get nodes(): string {
    return `${this.prefix}{nodes}`
  }

  /** Pub/sub channel a node listens on for node-addressed messages. */
  node(nodeId: string): string {
    return `${this.prefix}{n:${nodeId}}`
  }

  /** Set of `<name>\n<providerId>` a node registered, so survivors can drop them if it dies. */
  nodeProviders(nodeId: string): string {
    return `${this.prefix}{n:${nodeId}}:rpc`
  }

  // ---- presence ------------------------------------------------------------------------

  /** Hash clientId → member JSON. */
  roomMembers(room: string): string {
    return `${this.prefix}{p:${room}}:m`
  }

  /** Sorted set clientId → expiry (ms). */
  roomExpiry(room: string): string {
    return `${this.prefix}{p:${room}}:x`
  }

  // ---- records -------------------------------------------------------------------------

  /** The version a client write id (user-scoped key) committed as. */
  committedWrite(key: string): string {
    return `${this.prefix}{w:${key}}`
  }

  // ---- occupancy -----------------------------------------------------------------------

  /**
   * Key prefix of occupancy bucket `bucket` (names are spread over a fixed number of buckets, each
   * one hash tag, so a bucket's state, event log and event channel live on one shard). Under it:
   * `m` hash { e: epoch, s: last event seq }, `ev` the event log (a stream, ids `0-<seq>`), `h` hash
   * field → number of holding nodes, `o` hash field → `<nodeId> <listenerId>` (the claim), `x`
   * sorted set nodeId → expiry (ms), `n:<nodeId>` / `c:<nodeId>` sets of the fields a node holds /
   * claimed. A field is `<c|r>:<name>`.
   */
  occupancyBucket(bucket: number): string {
    return `${this.prefix}{o:${bucket}}:`
  }

  /** Pub/sub channel of a bucket's events. */
  occupancyChannel(bucket: number): string {
    return `${this.prefix}{o:${bucket}}`
  }

  // ---- rpc -----------------------------------------------------------------------------

  /** Hash providerId → nodeId. */
  rpcProviders(name: string): string {
    return `${this.prefix}{r:${name}}:p`
  }

  /** The provider id picked last (round-robin cursor). */
  rpcCursor(name: string): string {
    return `${this.prefix}{r:${name}}:rr`
  }
}
