import type { Logger } from '../../log.js'

/** An event of one occupancy bucket, as published and logged by its scripts (occupancy-scripts.ts). */
export interface BucketEvent {
  epoch: string
  seq: number
  /** occupied, vacated, released. */
  change: 'o' | 'v' | 'r'
  field: string
  /** The listener whose claim was released ('r'); '' otherwise. */
  listener: string
}

/** Parses an event message; undefined when it is not one. */
export function parseBucketEvent(message: string): BucketEvent | undefined {
  const parts = message.split('\n')
  if (parts.length !== 5) return undefined
  const [epoch, seq, change, field, listener] = parts as [string, string, string, string, string]
  const n = Number(seq)
  if (!Number.isSafeInteger(n) || n < 1 || field === '') return undefined
  if (change !== 'o' && change !== 'v' && change !== 'r') return undefined
  return { epoch, seq: n, change, field, listener }
}

/** A failed catch-up is tried again after this long, doubling up to the maximum. */
const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 2000

/** Where a bucket stands: its epoch (new whenever Redis lost it) and the seq of its last event. */
export interface BucketPosition {
  epoch: string
  seq: number
}

/** How a feed reads what it missed. */
export interface FeedSource {
  /**
   * The events after `after` of `epoch` (a page of them) and where the bucket stands; `events`
   * is null when they cannot be had (another epoch, or the log no longer reaches back).
   */
  catchUp(epoch: string, after: number): Promise<BucketPosition & { events: BucketEvent[] | null }>
  /**
   * Reads the bucket's whole state instead and brings this node's view in line with it (the
   * source delivers what that takes); `initial`: the node knows nothing yet, just the position.
   */
  resync(initial: boolean): Promise<BucketPosition>
}

/**
 * One bucket's events for this node: each delivered once, in seq order, whatever pub/sub did.
 * Messages from the bucket's channel are delivered when they are the next in line; a gap (a
 * message lost while the connection was down, or one a heartbeat shows is missing) is filled
 * from the bucket's log first; a node too far behind, or a bucket that started over (new epoch),
 * resyncs from the state. Deliveries always happen after an await: never inside a caller's call.
 */
export class BucketFeed {
  private known: BucketPosition | undefined
  private readonly queue: BucketEvent[] = []
  private behind = true
  private running: Promise<void> | undefined
  private stopped = false
  private retry: ReturnType<typeof setTimeout> | undefined
  private retryMs = RETRY_MIN_MS

  constructor(
    private readonly source: FeedSource,
    private readonly deliver: (event: BucketEvent) => void,
    private readonly log: Logger,
  ) {}

  /** The epoch of the events delivered so far (undefined before the first sync). */
  get epoch(): string | undefined {
    return this.known?.epoch
  }

  /** Learns where the bucket stands (start); rejects when Redis cannot be read. */
  async sync(): Promise<void> {
    this.behind = true
    await this.run()
  }

  /** A message from the bucket's channel. */
  push(event: BucketEvent): void {
    this.queue.push(event)
    this.kick()
  }

  /** Where the bucket stands according to a heartbeat: catches up if events are missing here. */
  observe(position: BucketPosition): void {
    const known = this.known
    if (known && position.epoch === known.epoch && position.seq <= known.seq) return
    this.behind = true
    this.kick()
  }

  /** Messages may have been lost (the subscription connection dropped): checks for missing events. */
  recheck(): void {
    this.behind = true
    this.kick()
  }

  /** Stops reading (the node closes). */
  stop(): void {
    this.stopped = true
    clearTimeout(this.retry)
  }

  private kick(): void {
    if (this.stopped) return
    this.run().then(
      () => (this.retryMs = RETRY_MIN_MS),
      (err: unknown) => {
        if (this.retryMs === RETRY_MIN_MS) this.log.warn({ err }, 'reading missed occupancy events failed (retrying)')
        clearTimeout(this.retry)
        this.retry = setTimeout(() => this.kick(), this.retryMs)
        this.retry.unref()
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS)
      },
    )
  }

  private run(): Promise<void> {
    // Started in a microtask, so the loop's end always clears the promise it was stored as.
    this.running ??= Promise.resolve().then(() => this.loop())
    return this.running
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        const known = this.known
        if (this.behind || !known) {
          await this.catchUp()
          continue
        }
        const event = this.queue.shift()
        if (!event) return
        if (event.epoch !== known.epoch) {
          // The bucket started over (or this is a stale message): the state says where it stands.
          this.behind = true
        } else if (event.seq === known.seq + 1) {
          this.accept(event)
        } else if (event.seq > known.seq + 1) {
          this.queue.unshift(event)
          this.behind = true
        }
      }
    } finally {
      this.running = undefined
    }
  }

  private async catchUp(): Promise<void> {
    const known = this.known
    if (known) {
      const page = await this.source.catchUp(known.epoch, known.seq)
      const before = known.seq
      for (const event of page.events ?? [])
        if (event.epoch === known.epoch && event.seq === known.seq + 1) this.accept(event)
      if (page.events && (known.seq >= page.seq || known.seq > before)) {
        if (known.seq >= page.seq) this.behind = false
        return
      }
    }
    const position = await this.source.resync(known === undefined)
    this.known = { ...position }
    this.behind = false
    // What was queued meanwhile is either included in the state or of an epoch that is over.
    const keep = this.queue.filter((e) => e.epoch === position.epoch && e.seq > position.seq)
    this.queue.length = 0
    this.queue.push(...keep)
  }

  private accept(event: BucketEvent): void {
    this.known!.seq = event.seq
    try {
      this.deliver(event)
    } catch (err) {
      this.log.error({ err }, 'handling an occupancy event failed')
    }
  }
}
