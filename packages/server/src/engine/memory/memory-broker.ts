import { randomBytes } from 'node:crypto'
import type { PublisherInfo, StreamPosition } from '@switchboard/protocol'
import type {
  Broker,
  BrokerHandler,
  HistoryOptions,
  HistoryQuery,
  HistoryResult,
  Publication,
  PublishOptions,
} from '../broker.js'
import { PublishedKeys } from './published-keys.js'

interface Entry {
  offset: number
  data: unknown
  publisher: PublisherInfo | undefined
  at: number
}

interface Stream {
  epoch: string
  offset: number
  /** Ring of the last `size` publications, oldest first once unrolled. */
  entries: Entry[]
  head: number
  lastPublishAt: number
  /** How long the stream is kept after its last publication. */
  retainMs: number
}

/** Streams without history are forgotten after this long idle; a new epoch marks the reset. */
const IDLE_STREAM_MS = 60 * 60 * 1000

/**
 * The single-node engine: history lives in this process. Publications are handed to core
 * synchronously inside `publish`, so order and "in history before ack" hold trivially.
 */
export class MemoryBroker implements Broker {
  private handler: BrokerHandler | undefined
  private readonly streams = new Map<string, Stream>()
  private readonly keys = new PublishedKeys()
  private sweepTimer: ReturnType<typeof setInterval> | undefined

  constructor(private readonly now: () => number = Date.now) {}

  async start(handler: BrokerHandler): Promise<void> {
    this.handler = handler
    this.sweepTimer = setInterval(() => this.sweep(), 60_000)
    this.sweepTimer.unref()
  }

  // Every publication of this process already passes through publish(): nothing to join.
  async subscribe(): Promise<void> {}
  async unsubscribe(): Promise<void> {}

  async publish(channel: string, data: unknown, options: PublishOptions): Promise<StreamPosition> {
    const now = this.now()
    const { idempotency } = options
    if (idempotency) {
      const first = this.keys.find(channel, idempotency.key, now)
      if (first) return { ...first }
    }
    const stream = this.stream(channel, now)
    stream.offset++
    stream.lastPublishAt = now
    const { size, ttlMs } = options.history
    stream.retainMs = size === 0 ? IDLE_STREAM_MS : ttlMs > 0 ? Math.max(ttlMs, IDLE_STREAM_MS) : Infinity
    if (size > 0) {
      const entry: Entry = { offset: stream.offset, data, publisher: options.publisher, at: now }
      if (stream.entries.length < size) stream.entries.push(entry)
      else {
        stream.entries[stream.head] = entry
        stream.head = (stream.head + 1) % stream.entries.length
      }
    }
    const publication: Publication = { channel, data, offset: stream.offset, epoch: stream.epoch }
    if (options.publisher) publication.publisher = options.publisher
    const position = { offset: stream.offset, epoch: stream.epoch }
    if (idempotency) this.keys.remember(channel, idempotency.key, idempotency.windowMs, position, now)
    this.handler?.onPublication(publication)
    return position
  }

  async history(channel: string, query: HistoryQuery, options: HistoryOptions): Promise<HistoryResult> {
    const now = this.now()
    const stream = this.stream(channel, now)
    const position = { offset: stream.offset, epoch: stream.epoch }
    const toPublication = (e: Entry): Publication => {
      const p: Publication = { channel, data: e.data, offset: e.offset, epoch: stream.epoch }
      if (e.publisher) p.publisher = e.publisher
      return p
    }
    // Entries still inside the size and ttl window are [first, count) in ring order; reads cost
    // what they return, not the size of the history (recovery reads a large history page by page).
    const count = stream.entries.length
    const entry = (i: number) => stream.entries[(stream.head + i) % count] as Entry
    let first = Math.max(0, count - options.size)
    if (options.ttlMs > 0) first = firstFresh(entry, first, count, now - options.ttlMs)
    const slice = (from: number, to: number) => {
      const out: Publication[] = []
      for (let i = from; i < to; i++) out.push(toPublication(entry(i)))
      return out
    }
    const { since, limit } = query
    if (!since) return { publications: slice(Math.max(first, count - limit), count), position, complete: true }
    if (since.epoch !== stream.epoch || since.offset > stream.offset) {
      return { publications: [], position, complete: since.epoch === stream.epoch && since.offset === stream.offset }
    }
    // Offsets in the ring are consecutive: the first one after `since` is found by arithmetic.
    const start = first < count ? Math.max(first, first + since.offset + 1 - entry(first).offset) : count
    const missed = stream.offset - since.offset
    const after = count - start
    const page = slice(start, Math.min(count, start + limit))
    return { publications: page, position, complete: after === missed && page.length === missed }
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    this.handler = undefined
  }

  private stream(channel: string, now: number): Stream {
    let stream = this.streams.get(channel)
    if (!stream) {
      stream = {
        epoch: randomBytes(6).toString('base64url'),
        offset: 0,
        entries: [],
        head: 0,
        lastPublishAt: now,
        retainMs: IDLE_STREAM_MS,
      }
      this.streams.set(channel, stream)
    }
    return stream
  }

  private sweep(): void {
    const now = this.now()
    for (const [channel, stream] of this.streams) {
      if (now - stream.lastPublishAt > stream.retainMs) this.streams.delete(channel)
    }
  }
}

/** The first index in [from, to) whose entry is not older than `oldestAt` (entries are in time order). */
function firstFresh(entry: (i: number) => Entry, from: number, to: number, oldestAt: number): number {
  let lo = from
  let hi = to
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (entry(mid).at < oldestAt) lo = mid + 1
    else hi = mid
  }
  return lo
}
