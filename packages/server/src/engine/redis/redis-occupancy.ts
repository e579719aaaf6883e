import { randomBytes } from 'node:crypto'
import type { Logger } from '../../log.js'
import type { Occupancy, OccupancyEvent, OccupancyHandler, OccupancyKind } from '../occupancy.js'
import type { RedisKeys } from './keys.js'
import type { LuaScript } from './lua-script.js'
import { BucketFeed, parseBucketEvent, type BucketEvent, type BucketPosition } from './occupancy-feed.js'
import { BEAT, CATCH_UP, CLAIM, DROP, ENTER, LEAVE, RELEASE, STATE, SYNC } from './occupancy-scripts.js'
import type { RedisConnection, RedisReply } from './redis-connection.js'

/** Names are spread over this many buckets (hash tags), so a Redis Cluster shares the work. */
const BUCKETS = 16
/** Entries of expired nodes removed per script call, so one call never holds Redis long. */
const STEP = 1000
/** Events read per catch-up call. */
const CATCH_UP_PAGE = 500

/** A claim this node won: the bucket position it was won at orders it against events. */
interface Claim {
  listenerId: string
  epoch: string
  seq: number
}

/** A claim asked for and not answered yet. */
interface PendingClaim {
  listenerId: string
  /** Seq of an event that ended it (vacated, or released from this listener); 0: none. */
  endedAt: number
}

/** One bucket's keys, what this node holds and claims in it, and its events. */
interface Bucket {
  readonly base: string
  readonly meta: string
  readonly channel: string
  readonly held: Set<string>
  readonly claims: Map<string, Claim>
  readonly pending: Map<string, Set<PendingClaim>>
  /** A call failed (Redis may or may not have applied it): reconcile at the next heartbeat. */
  dirty: boolean
  readonly feed: BucketFeed
}

/**
 * Occupancy shared by every node through Redis (one server or a Cluster). Names are spread over
 * 16 buckets; each change of a bucket is one Lua script that updates its state and numbers,
 * logs and publishes the events it causes, so every node hears each transition once and in
 * order (BucketFeed fills gaps from the log). A node's holdings and claims are listed under its
 * id, which it keeps alive in each bucket at every engine heartbeat (the node timeout, as for
 * presence); whoever finds a node expired removes what it held and claimed, with the events.
 *
 * What this node holds and claims is also kept here: it is the truth Redis is brought back to
 * (SYNC) when Redis lost it, when this node had been taken for dead, or when calls failed while
 * Redis was away. Operations on one name go to one shard in call order.
 */
export class RedisOccupancy implements Occupancy {
  private handler: OccupancyHandler | undefined
  private readonly buckets: Bucket[] = []
  private readonly byChannel = new Map<string, Bucket>()
  private readonly epochPrefix = randomBytes(6).toString('base64url')
  private epochs = 0
  private started = false
  private closed = false

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    /** A node whose heartbeat is older than this counts as dead. */
    private readonly nodeTimeoutMs: number,
    private readonly log: Logger,
  ) {
    for (let index = 0; index < BUCKETS; index++) {
      const base = keys.occupancyBucket(index)
      const feed = new BucketFeed(
        {
          catchUp: (epoch, after) => this.catchUp(bucket, epoch, after),
          resync: (initial) => this.resync(bucket, initial),
        },
        (event) => this.apply(bucket, event),
        log,
      )
      const bucket: Bucket = {
        base,
        meta: `${base}m`,
        channel: keys.occupancyChannel(index),
        held: new Set(),
        claims: new Map(),
        pending: new Map(),
        // The first heartbeat drops whatever a previous process with this node id left.
        dirty: true,
        feed,
      }
      this.buckets.push(bucket)
      this.byChannel.set(bucket.channel, bucket)
    }
    // Events published while the subscription was down are read from the logs.
    redis.onRestored(() => {
      if (this.started && !this.closed) for (const b of this.buckets) b.feed.recheck()
    })
  }

  async start(handler: OccupancyHandler): Promise<void> {
    this.handler = handler
    // Listening first, then reading where each bucket stands: nothing published between is missed.
    await Promise.all(this.buckets.map((b) => this.redis.subscribe(b.channel, this.onMessage)))
    await Promise.all(this.buckets.map((b) => b.feed.sync()))
    this.started = true
    await this.beat()
  }

  enter(kind: OccupancyKind, name: string): Promise<boolean> {
    const field = fieldOf(kind, name)
    const bucket = this.bucketOf(field)
    bucket.held.add(field)
    return this.call<number>(bucket, ENTER, [field]).then((r) => {
      // Listed again: this node had been taken for dead, so Redis lost its other names here.
      if (r >= 2) bucket.dirty = true
      return r % 2 === 1
    })
  }

  leave(kind: OccupancyKind, name: string): Promise<boolean> {
    const field = fieldOf(kind, name)
    const bucket = this.bucketOf(field)
    bucket.held.delete(field)
    return this.call<number>(bucket, LEAVE, [field]).then((r) => r === 1)
  }

  async occupied(kind: OccupancyKind): Promise<string[]> {
    const prefix = fieldOf(kind, '')
    const lists = await Promise.all(
      this.buckets.map((b) => this.redis.command<string[]>(`${b.base}h`, ['HKEYS', `${b.base}h`])),
    )
    const names: string[] = []
    for (const fields of lists) for (const f of fields) if (f.startsWith(prefix)) names.push(f.slice(prefix.length))
    return names
  }

  async claim(kind: OccupancyKind, name: string, listenerId: string): Promise<boolean> {
    const field = fieldOf(kind, name)
    const bucket = this.bucketOf(field)
    const pending: PendingClaim = { listenerId, endedAt: 0 }
    let waiting = bucket.pending.get(field)
    if (!waiting) bucket.pending.set(field, (waiting = new Set()))
    waiting.add(pending)
    try {
      const [won, epoch, seq, again] = await this.call<[number, string, number, number]>(bucket, CLAIM, [
        listenerId,
        field,
      ])
      if (again === 2) bucket.dirty = true
      // Won, then lost again to an event this node already handed on: it was never this listener's.
      if (won !== 1 || pending.endedAt > seq) return false
      // Answered in an epoch the events are not in (Redis restarted): the next heartbeat checks it.
      if (epoch !== bucket.feed.epoch) bucket.dirty = true
      bucket.claims.set(field, { listenerId, epoch, seq })
      return true
    } finally {
      waiting.delete(pending)
      if (waiting.size === 0 && bucket.pending.get(field) === waiting) bucket.pending.delete(field)
    }
  }

  async release(kind: OccupancyKind, name: string, listenerId: string): Promise<void> {
    const field = fieldOf(kind, name)
    const bucket = this.bucketOf(field)
    if (bucket.claims.get(field)?.listenerId === listenerId) bucket.claims.delete(field)
    await this.call(bucket, RELEASE, [listenerId, field])
  }

  /**
   * The engine heartbeat (every quarter of the node timeout): keeps this node alive in every
   * bucket, expires nodes that died, catches up on missed events, and brings Redis back to what
   * this node holds where it differs.
   */
  async beat(): Promise<void> {
    if (!this.started || this.closed) return
    const results = await Promise.allSettled(this.buckets.map((b) => this.beatBucket(b)))
    const failure = results.find((r) => r.status === 'rejected')
    if (failure) throw failure.reason
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.handler = undefined
    for (const b of this.buckets) b.feed.stop()
    if (!this.started) return
    await Promise.allSettled(this.buckets.map((b) => this.redis.unsubscribe(b.channel, this.onMessage)))
    const dropped = await Promise.allSettled(
      this.buckets.map(async (b) => {
        while ((await this.call<number>(b, DROP, [STEP])) !== 1) {
          // More than one step's worth: go on.
        }
      }),
    )
    const failure = dropped.find((r) => r.status === 'rejected')
    if (failure) {
      this.log.warn({ err: failure.reason }, 'leaving occupancy failed: this node’s names run out with its timeout')
    }
    for (const b of this.buckets) {
      b.held.clear()
      b.claims.clear()
    }
  }

  // ---- internals -------------------------------------------------------------------------

  private async beatBucket(bucket: Bucket): Promise<void> {
    for (;;) {
      const [alive, done, epoch, seq, vacated] = await this.call<[number, number, string, number, string[]]>(
        bucket,
        BEAT,
        [STEP],
      )
      for (const field of vacated) this.caused(field, 'vacated')
      bucket.feed.observe({ epoch, seq })
      if (done !== 1) continue
      const holds = bucket.held.size > 0 || bucket.claims.size > 0
      if (bucket.dirty || (alive !== 1 && holds)) await this.sync(bucket)
      return
    }
  }

  /** Brings Redis back to what this node holds and claims in a bucket (see SYNC). */
  private async sync(bucket: Bucket): Promise<void> {
    bucket.dirty = false
    const held = [...bucket.held]
    const claims = [...bucket.claims]
    const pairs: string[] = []
    for (const [field, waiting] of bucket.pending) for (const p of waiting) pairs.push(field, p.listenerId)
    for (const [field, c] of claims) pairs.push(field, c.listenerId)
    const [occupied, vacated, lost] = await this.call<[string[], string[], string[]]>(bucket, SYNC, [
      held.length,
      ...held,
      ...pairs,
    ])
    for (const field of occupied) this.caused(field, 'occupied')
    for (const field of vacated) this.caused(field, 'vacated')
    const asked = new Map(claims)
    for (const field of lost) {
      const claim = asked.get(field)
      // Only a claim this node had when it asked (not one won since) is known to be gone.
      if (!claim || bucket.claims.get(field) !== claim) continue
      bucket.claims.delete(field)
      this.deliver(field, 'vacated')
    }
  }

  private async catchUp(
    bucket: Bucket,
    epoch: string,
    after: number,
  ): Promise<BucketPosition & { events: BucketEvent[] | null }> {
    const reply = await this.call<[string, number, number, ...string[]]>(bucket, CATCH_UP, [
      after,
      epoch,
      CATCH_UP_PAGE,
    ])
    const [current, seq, complete, ...messages] = reply
    if (complete !== 1) return { epoch: current, seq, events: null }
    const events: BucketEvent[] = []
    for (const message of messages) {
      const event = parseBucketEvent(message)
      if (event) events.push(event)
    }
    return { epoch: current, seq, events }
  }

  /**
   * Events were missed beyond the log, or Redis started the bucket over: hands on what the
   * state implies for this node's listeners, as events would have.
   */
  private async resync(bucket: Bucket, initial: boolean): Promise<BucketPosition> {
    const [epoch, seq, fields, owners] = await this.call<[string, number, string[], string[]]>(bucket, STATE, [
      initial ? '0' : '1',
    ])
    if (initial) return { epoch, seq }
    const ownerOf = new Map<string, string>()
    for (let i = 0; i + 1 < owners.length; i += 2) ownerOf.set(owners[i]!, owners[i + 1]!)
    for (const [field, claim] of [...bucket.claims]) {
      const newer = claim.epoch === epoch && claim.seq > seq
      if (newer || ownerOf.get(field) === `${this.nodeId} ${claim.listenerId}`) continue
      bucket.claims.delete(field)
      this.deliver(field, 'vacated')
    }
    // Names nobody owns are offered to listeners again (their `occupied` may have been missed).
    for (const field of fields) if (!ownerOf.has(field)) this.deliver(field, 'released')
    if (bucket.feed.epoch !== undefined && bucket.feed.epoch !== epoch) {
      // Redis lost the bucket: hold this node's names there again now rather than at the next heartbeat.
      bucket.dirty = true
      this.sync(bucket).catch((err: unknown) => this.log.warn({ err }, 'holding names again failed'))
    }
    return { epoch, seq }
  }

  /** An event in seq order (BucketFeed): updates this node's claims and hands it on. */
  private apply(bucket: Bucket, event: BucketEvent): void {
    const { field, seq } = event
    if (event.change === 'o') return this.deliver(field, 'occupied')
    const endsClaim = (c: Claim) => c.epoch !== event.epoch || c.seq < seq
    const claim = bucket.claims.get(field)
    for (const p of bucket.pending.get(field) ?? []) {
      if (event.change === 'v' || p.listenerId === event.listener) p.endedAt = Math.max(p.endedAt, seq)
    }
    if (event.change === 'v') {
      if (claim && endsClaim(claim)) bucket.claims.delete(field)
      return this.deliver(field, 'vacated')
    }
    if (claim?.listenerId === event.listener && endsClaim(claim)) {
      // Released without this node asking (it was taken for dead): its owner here has lost it.
      bucket.claims.delete(field)
      this.deliver(field, 'vacated')
    }
    this.deliver(field, 'released')
  }

  private deliver(field: string, change: OccupancyEvent['change']): void {
    const handler = this.handler
    if (!handler) return
    try {
      handler.onOccupancy(eventOf(field, change))
    } catch (err) {
      this.log.error({ err }, 'handling an occupancy event failed')
    }
  }

  private caused(field: string, change: 'occupied' | 'vacated'): void {
    const handler = this.handler
    if (!handler) return
    try {
      handler.onCaused(eventOf(field, change))
    } catch (err) {
      this.log.error({ err }, 'reporting an occupancy change failed')
    }
  }

  /** Runs a bucket script; a failure leaves the bucket to be reconciled at the next heartbeat. */
  private call<T extends RedisReply>(bucket: Bucket, script: LuaScript, args: (string | number)[]): Promise<T> {
    const epoch = `${this.epochPrefix}${++this.epochs}`
    const common = [bucket.base, bucket.channel, this.redis.publishCommand, epoch, this.nodeId, this.nodeTimeoutMs]
    return this.redis.script<T>(script, [bucket.meta], [...common, ...args]).catch((err: unknown) => {
      bucket.dirty = true
      throw err
    })
  }

  private bucketOf(field: string): Bucket {
    return this.buckets[bucketIndex(field)]!
  }

  private readonly onMessage = (message: string, channel: string): void => {
    const bucket = this.byChannel.get(channel)
    const event = parseBucketEvent(message)
    if (!bucket || !event) return
    bucket.feed.push(event)
  }
}

function fieldOf(kind: OccupancyKind, name: string): string {
  return `${kind === 'channel' ? 'c' : 'r'}:${name}`
}

function eventOf(field: string, change: OccupancyEvent['change']): OccupancyEvent {
  return { kind: field.startsWith('c:') ? 'channel' : 'record', name: field.slice(2), change }
}

/** FNV-1a of the field, so every node puts a name in the same bucket. */
export function bucketIndex(field: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < field.length; i++) {
    hash ^= field.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % BUCKETS
}
