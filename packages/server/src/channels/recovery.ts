import { type RecoveredPublication, type StreamPosition, type SubscribeReply } from '@switchboard/protocol'
import { EncodedFrame } from '../transports/transport.js'
import type { HistoryResult, Publication } from '../engine/broker.js'

/** What one recovery needs from the channel service and its session. */
export interface RecoveryHost {
  /** The channel's publications after `since`, at most `limit`. */
  read(since: StreamPosition, limit: number): Promise<HistoryResult>
  /** False once the session closed, unsubscribed or began another recovery of the channel. */
  wanted(): boolean
  /** Resolves when the session's outbound bytes are at most `bytes`, or it is no longer wanted. */
  room(bytes: number): Promise<void>
  enqueue(frame: EncodedFrame): void
  /** Adds the session to the channel's live fan-out. */
  join(): void
  /** Reading history failed while paging: the recovery ends with complete: false. */
  failed(err: unknown): void
}

export interface RecoveryLimits {
  /** The most bytes of publications in one page, and the outbound level under which a page may go. */
  pageBytes: number
  /** The most publications one history read asks for. */
  maxPageCount: number
  /** Live publications held during the recovery, in bytes; past this they are dropped and read from history. */
  maxHeldBytes: number
  /**
   * A publication larger than this cannot be sent without risking the slow-consumer limit: it
   * is skipped and the answer is complete: false (else the client would be cut on every try).
   */
  maxItemBytes: number
}

interface Unsent {
  pub: Publication
  text: string
}

const MAX_PAGE_COUNT = 1000

/**
 * One session catching up on one channel: the publications after its position, read from
 * history and sent in pages of at most `pageBytes`, each only once the session's outbound
 * buffer drained under `pageBytes`. So a backlog of any size reaches a client that reads it,
 * and a page never trips the slow-consumer limit.
 *
 * Live publications that arrive meanwhile are held and go out after the last page, in the
 * same synchronous step as the session joins live fan-out, so each publication is delivered
 * exactly once and in order. Held ones are bounded: past `maxHeldBytes` they are dropped and
 * the recovery reads further instead (history has them, or the answer is complete: false).
 *
 * Wire shape: the `sub` reply carries the first page; when more follow it says `more: true`
 * and `recovery` messages bring the rest, the last one with `complete`.
 */
export class Recovery {
  private epoch: string
  /** The offset of the last publication read (every one up to it is sent or in `unsent`). */
  private cursor: number
  private unsent: Unsent[] = []
  private next = 0
  /** The last read reached the stream's head. */
  private atHead = false
  private complete = true
  private held: { pub: Publication; frame: EncodedFrame }[] = []
  private heldChars = 0
  /** Times held publications were dropped; a recovery only ends on a read that began after the last drop. */
  private drops = 0
  private dropsAtRead = 0
  /** Running estimate of one encoded publication's size, to size history reads. */
  private averageChars = 512

  constructor(
    private readonly channel: string,
    since: StreamPosition,
    private readonly host: RecoveryHost,
    private readonly limits: RecoveryLimits,
  ) {
    this.epoch = since.epoch
    this.cursor = since.offset
  }

  /** A live publication of the channel, while recovering. */
  hold(pub: Publication, frame: EncodedFrame): void {
    if (pub.epoch === this.epoch && pub.offset <= this.cursor) return // read from history already
    this.held.push({ pub, frame })
    this.heldChars += frame.size
    if (this.heldChars > this.limits.maxHeldBytes) {
      this.held = []
      this.heldChars = 0
      this.drops++
    }
  }

  /**
   * Reads the first page. The caller sends `reply`, then calls `start()` in the same
   * synchronous step: it joins live fan-out at once (everything fit) or starts paging.
   */
  async begin(): Promise<{ reply: SubscribeReply; start: () => void }> {
    const head = await this.read()
    const page = this.takePage()
    const done = this.done()
    const rec: NonNullable<SubscribeReply['rec']> = {
      pubs: page.map((u) => recovered(u.pub)),
      complete: done && this.complete,
    }
    if (!done) rec.more = true
    const reply: SubscribeReply = { o: head.offset, e: head.epoch, rec }
    return { reply, start: done ? () => this.finish(undefined) : () => void this.pump() }
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (!this.host.wanted()) return
        if (this.next === this.unsent.length && !this.done()) {
          await this.read()
          continue
        }
        await this.host.room(this.limits.pageBytes)
        if (!this.host.wanted()) return
        const page = this.takePage()
        if (this.done()) return this.finish(page)
        this.host.enqueue(this.pageFrame(page, false))
      }
    } catch (err) {
      this.host.failed(err)
      this.complete = false
      this.unsent = []
      this.next = 0
      this.finish([])
    }
  }

  /** Sends the last page (none when the reply held everything), joins, then what was held. */
  private finish(page: Unsent[] | undefined): void {
    if (!this.host.wanted()) return
    if (page) this.host.enqueue(this.pageFrame(page, true))
    this.host.join()
    for (const { pub, frame } of this.held) {
      if (pub.epoch === this.epoch && pub.offset > this.cursor) this.host.enqueue(frame)
    }
    this.held = []
  }

  private done(): boolean {
    return this.next === this.unsent.length && this.atHead && this.drops === this.dropsAtRead
  }

  /** Reads the next publications from history; returns the stream's position. */
  private async read(): Promise<StreamPosition> {
    this.dropsAtRead = this.drops
    const limit = Math.max(
      1,
      Math.min(this.limits.maxPageCount, MAX_PAGE_COUNT, Math.floor(this.limits.pageBytes / (this.averageChars + 1))),
    )
    const { publications: pubs, position } = await this.host.read({ offset: this.cursor, epoch: this.epoch }, limit)
    if (this.next === this.unsent.length) {
      this.unsent = []
      this.next = 0
    }
    if (position.epoch !== this.epoch || position.offset < this.cursor) {
      // The stream was reset (its history lost), or the position is not one of this stream:
      // nothing to recover; live publications from the current position on.
      this.complete = false
      this.unsent = []
      this.next = 0
      if (position.epoch !== this.epoch) this.cursor = 0
      else this.cursor = position.offset
      this.epoch = position.epoch
      this.atHead = true
      this.prune()
      return position
    }
    // A gap before the first one: the oldest missed publications were trimmed from history.
    const first = pubs[0]
    if (first ? first.offset !== this.cursor + 1 : position.offset > this.cursor) this.complete = false
    let chars = 0
    for (const pub of pubs) {
      // Pages are assembled from these pieces, so each publication is encoded once.
      const text = JSON.stringify(recovered(pub))
      chars += text.length
      this.cursor = pub.offset
      if (text.length > this.limits.maxItemBytes) this.complete = false
      else this.unsent.push({ pub, text })
    }
    if (pubs.length > 0) this.averageChars = Math.max(16, Math.ceil(chars / pubs.length))
    this.atHead = pubs.length < limit
    this.prune()
    return position
  }

  /** Drops held publications that the reads have covered. */
  private prune(): void {
    if (this.held.length === 0) return
    this.held = this.held.filter(({ pub }) => !(pub.epoch === this.epoch && pub.offset <= this.cursor))
    this.heldChars = this.held.reduce((n, h) => n + h.frame.size, 0)
  }

  /** The next unsent publications up to `pageBytes` (at least one, when any is left). */
  private takePage(): Unsent[] {
    const page: Unsent[] = []
    let chars = 0
    while (this.next < this.unsent.length) {
      const u = this.unsent[this.next] as Unsent
      if (page.length > 0 && chars + u.text.length > this.limits.pageBytes) break
      page.push(u)
      chars += u.text.length + 1
      this.next++
    }
    return page
  }

  private pageFrame(page: Unsent[], last: boolean): EncodedFrame {
    const head = `{"t":"recovery","ch":${JSON.stringify(this.channel)},"e":${JSON.stringify(this.epoch)},"pubs":[`
    const tail = last ? `],"complete":${this.complete}}` : '],"more":true}'
    return new EncodedFrame(head + page.map((u) => u.text).join(',') + tail)
  }
}

function recovered(p: Publication): RecoveredPublication {
  return p.publisher ? { o: p.offset, d: p.data, p: p.publisher } : { o: p.offset, d: p.data }
}
