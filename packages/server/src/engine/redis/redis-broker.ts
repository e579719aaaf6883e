import { randomBytes } from 'node:crypto'
import { isPattern, type NamePattern, type StreamPosition } from '@switchboard/protocol'
import type { Logger } from '../../log.js'
import type {
  Broker,
  BrokerHandler,
  HistoryOptions,
  HistoryQuery,
  HistoryResult,
  Publication,
  PublishOptions,
} from '../broker.js'
import { HISTORY_SCRIPT, PUBLISH_SCRIPT } from './broker-scripts.js'
import type { RedisKeys } from './keys.js'
import type { PatternRegistry } from './pattern-registry.js'
import { decodeMessage, decodePayload, encodePayload } from './publication-codec.js'
import type { RedisConnection } from './redis-connection.js'
import { compileStreamPattern } from '../stream-pattern.js'

/** Streams without history are forgotten after this long idle (as in the memory broker); a new epoch marks the reset. */
const IDLE_STREAM_MS = 60 * 60 * 1000

/** A channel this node listens to: reference-counted, with the last position handed to core. */
interface Listening {
  count: number
  /** The last SUBSCRIBE for it failed: the next subscribe tries again. */
  failed: boolean
  /** The last publication delivered (exact channels): drops the copy a pattern also brought. */
  offset: number
  epoch: string
}

interface PatternListening {
  count: number
  failed: boolean
  pattern: NamePattern
}

/**
 * The cluster broker on Redis. A publish is one Lua script (offset, history, broadcast), so
 * every node receives a stream in one order and an acknowledged publish is in history. A node
 * listens only to the channels core subscribed to (SUBSCRIBE per channel, sharded on a
 * cluster; PSUBSCRIBE per pattern), so a publication costs Redis one delivery per interested
 * node, never per subscriber. Redis delivers one connection's messages in publish order, which
 * gives the offset order per channel that core relies on.
 */
export class RedisBroker implements Broker {
  private handler: BrokerHandler | undefined
  private readonly exact = new Map<string, Listening>()
  private readonly patterns = new Map<string, PatternListening>()
  /** Subscribe/unsubscribe of one name run one after the other, so Redis ends in the state of the last call. */
  private readonly pending = new Map<string, Promise<void>>()
  private readonly epochPrefix = randomBytes(6).toString('base64url')
  private epochs = 0

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    /** Redis Cluster: where pattern subscriptions are, so publishes reach them (see PatternRegistry). */
    private readonly registry: PatternRegistry | undefined,
    private readonly log: Logger,
  ) {}

  async start(handler: BrokerHandler): Promise<void> {
    this.handler = handler
  }

  subscribe(channel: string): Promise<void> {
    const pattern = isPattern(channel)
    let entry: Listening | PatternListening | undefined = pattern ? this.patterns.get(channel) : this.exact.get(channel)
    if (entry) {
      entry.count++
      // Listening already (or about to): wait for that; a subscribe that failed is tried again.
      if (!entry.failed) return this.pending.get(channel) ?? Promise.resolve()
    } else if (pattern) {
      this.patterns.set(channel, (entry = { count: 1, failed: false, pattern: compileStreamPattern(channel) }))
    } else {
      this.exact.set(channel, (entry = { count: 1, failed: false, offset: 0, epoch: '' }))
    }
    const listening = entry
    listening.failed = false
    return this.serial(channel, async () => {
      try {
        if (pattern) {
          await this.redis.pSubscribe(this.keys.channelGlob(channel), this.onPatternMessage)
          await this.registry?.add(channel)
        } else {
          await this.redis.subscribe(this.keys.channel(channel), this.onMessage)
        }
      } catch (err) {
        listening.failed = true
        throw err
      }
    })
  }

  unsubscribe(channel: string): Promise<void> {
    if (isPattern(channel)) {
      const entry = this.patterns.get(channel)
      if (!entry || --entry.count > 0) return Promise.resolve()
      this.patterns.delete(channel)
      return this.serial(channel, async () => {
        await this.registry?.remove(channel)
        await this.redis.pUnsubscribe(this.keys.channelGlob(channel), this.onPatternMessage)
      })
    }
    const entry = this.exact.get(channel)
    if (!entry || --entry.count > 0) return Promise.resolve()
    this.exact.delete(channel)
    return this.serial(channel, () => this.redis.unsubscribe(this.keys.channel(channel), this.onMessage))
  }

  async publish(channel: string, data: unknown, options: PublishOptions): Promise<StreamPosition> {
    const { size, ttlMs } = options.history
    const retain = size === 0 ? IDLE_STREAM_MS : ttlMs > 0 ? Math.max(ttlMs, IDLE_STREAM_MS) : 0
    const alsoClassic = this.registry?.matches(channel) === true
    const { idempotency } = options
    const keys = [this.keys.streamMeta(channel), this.keys.streamHistory(channel)]
    if (idempotency) keys.push(this.keys.streamIdempotency(channel, idempotency.key))
    const [offset, epoch] = await this.redis.script<[number, string]>(PUBLISH_SCRIPT, keys, [
      this.freshEpoch(),
      encodePayload(data, options.publisher),
      size,
      ttlMs,
      retain,
      this.keys.channel(channel),
      this.redis.publishCommand,
      alsoClassic ? '1' : '0',
      idempotency ? Math.max(1, Math.ceil(idempotency.windowMs)) : 0,
      Date.now(),
    ])
    return { offset: Number(offset), epoch }
  }

  async history(channel: string, query: HistoryQuery, options: HistoryOptions): Promise<HistoryResult> {
    const { since, limit } = query
    const reply = await this.redis.script<[number, string, number, ...string[]]>(
      HISTORY_SCRIPT,
      [this.keys.streamMeta(channel), this.keys.streamHistory(channel)],
      [
        this.freshEpoch(),
        IDLE_STREAM_MS,
        options.size,
        options.ttlMs,
        since ? since.offset : -1,
        since ? since.epoch : '',
        limit,
      ],
    )
    const [offset, epoch, first] = reply
    const position = { offset, epoch }
    const publications: Publication[] = []
    for (let i = 3; i < reply.length; i++) {
      publications.push(decodePayload(channel, first + i - 3, epoch, reply[i] as string))
    }
    if (!since) return { publications, position, complete: true }
    if (since.epoch !== epoch || since.offset > offset) {
      return { publications: [], position, complete: since.epoch === epoch && since.offset === offset }
    }
    return { publications, position, complete: publications.length === offset - since.offset }
  }

  async close(): Promise<void> {
    this.handler = undefined
    const exact = [...this.exact.keys()]
    const patterns = [...this.patterns.keys()]
    this.exact.clear()
    this.patterns.clear()
    // Best effort: the connection closes right after, which ends every subscription anyway.
    await Promise.allSettled([
      ...exact.map((c) => this.serial(c, () => this.redis.unsubscribe(this.keys.channel(c), this.onMessage))),
      ...patterns.map((p) =>
        this.serial(p, async () => {
          await this.registry?.remove(p)
          await this.redis.pUnsubscribe(this.keys.channelGlob(p), this.onPatternMessage)
        }),
      ),
    ])
  }

  // ---- delivery --------------------------------------------------------------------------

  private readonly onMessage = (message: string, pubsubChannel: string): void => {
    const channel = this.keys.channelName(pubsubChannel)
    const listening = channel === undefined ? undefined : this.exact.get(channel)
    if (!listening || !this.handler) return
    this.deliver(channel as string, message, listening)
  }

  private readonly onPatternMessage = (message: string, pubsubChannel: string): void => {
    const channel = this.keys.channelName(pubsubChannel)
    if (channel === undefined || !this.handler) return
    // Internal streams ($records/…) reach only patterns over internal streams, never user patterns.
    const internal = channel.charCodeAt(0) === 36 /* $ */
    const listening = this.exact.get(channel)
    // On a cluster the exact subscription's own (sharded) connection brings every publication,
    // in order; this second connection could only bring them out of step with it.
    if (listening && this.redis.clustered) return
    let wanted = false
    for (const { pattern } of this.patterns.values()) {
      if ((pattern.source.charCodeAt(0) === 36) === internal && pattern.matches(channel)) {
        wanted = true
        break
      }
    }
    if (!wanted) return // the glob is wider than the pattern
    this.deliver(channel, message, listening)
  }

  /**
   * Hands a publication to core once. On one Redis server a channel that is subscribed exactly
   * and matched by a pattern arrives twice on the same connection, in order: the second copy is
   * dropped by its position.
   */
  private deliver(channel: string, message: string, listening: Listening | undefined): void {
    let publication: Publication
    try {
      publication = decodeMessage(channel, message)
    } catch (err) {
      this.log.warn({ err, channel }, 'redis broker: dropped a message that is not a publication')
      return
    }
    if (listening) {
      if (publication.epoch === listening.epoch && publication.offset <= listening.offset) return
      if (publication.epoch === listening.epoch && publication.offset > listening.offset + 1 && listening.offset > 0) {
        this.log.warn(
          { channel: publication.channel, from: listening.offset, to: publication.offset },
          'redis broker: publications missing between two deliveries',
        )
      }
      listening.offset = publication.offset
      listening.epoch = publication.epoch
    }
    // Thrown here, an error would unwind into the Redis client's reply parser.
    try {
      this.handler?.onPublication(publication)
    } catch (err) {
      this.log.error({ err, channel }, 'delivering a publication failed')
    }
  }

  private serial(name: string, op: () => Promise<void>): Promise<void> {
    const previous = this.pending.get(name) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(op)
    this.pending.set(name, next)
    const clear = () => {
      if (this.pending.get(name) === next) this.pending.delete(name)
    }
    next.then(clear, clear)
    return next
  }

  /** A new epoch for a stream that starts (over): unique per process run and call. */
  private freshEpoch(): string {
    return `${this.epochPrefix}${(++this.epochs).toString(36)}`
  }
}
