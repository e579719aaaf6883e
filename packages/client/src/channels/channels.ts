import {
  compilePattern,
  isPattern,
  isValidName,
  isValidPattern,
  type HistoryReply,
  type NamePattern,
  type PublicationMessage,
  type PublishReply,
  type RecoveredPublication,
  type RecoveryPageMessage,
  type StreamPosition,
  type SubscribeReply,
} from '@switchboard/protocol'
import type { Connection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import { UniqueIds } from '../ids.js'
import { Subscription, type PublicationHandler, type PublicationInfo, type SubscribeOptions } from './subscription.js'

/** All local handles on one channel (or pattern) share one server subscription. */
interface Group {
  channel: string
  pattern: NamePattern | undefined
  subs: Set<Subscription>
  recover: boolean
  confirmed: boolean
  /** Last position delivered; drives recovery and drops duplicates. */
  position: StreamPosition | undefined
  /** Set from a recovering subscribe until its last page is delivered. */
  recovery: RecoveryProgress | undefined
}

/**
 * A recovery under way. Live publications are held back until it ends: the answer is handled
 * in a microtask, after the rest of its batch frame, and pages follow it; without holding,
 * live messages (e.g. from a pattern subscription on the same connection) would be delivered
 * first and the recovered ones dropped as duplicates.
 */
interface RecoveryProgress {
  held: PublicationMessage[]
  /** The subscribe answer was handled: pages apply as they come. */
  answered: boolean
  /** Pages that arrived before the answer was handled. */
  early: RecoveryPageMessage[]
  /** Recovered publications delivered so far. */
  missed: number
}

export interface HistoryResult {
  publications: { data: unknown; offset: number; epoch: string }[]
  epoch: string
  offset: number
}

export interface PublishOptions {
  /**
   * The publication's id, unique per user (1–64 characters). Default: one made by the client.
   * Give your own to make a publish idempotent across client restarts (e.g. an order id): the
   * server publishes an id once within its dedupe window (2 minutes).
   */
  id?: string
}

export class Channels {
  readonly #groups = new Map<string, Group>()
  #patternGroups = 0
  readonly #publishIds = new UniqueIds()

  constructor(private readonly conn: Connection) {
    conn.push.msg = (m) => this.#onPublication(m)
    conn.push.unsubbed = (m) => this.#end(m.ch, new SwitchboardError(m.code, m.msg))
    conn.push.recovery = (m) => this.#onRecoveryPage(m)
    // After a switch of transport every channel resumes where it was, whether or not the app asked
    // for recovery after drops: for the app nothing happened, so nothing may be missing.
    conn.onRestore((reason) => {
      for (const group of this.#groups.values()) this.#sendSubscribe(group, reason === 'switch')
    })
  }

  subscribe(channel: string, handler: PublicationHandler, options: SubscribeOptions = {}): Subscription {
    const sub = new Subscription(channel, handler, options.recover === true, (s) => this.#unsubscribe(s))
    const pattern = isPattern(channel)
    if (pattern ? !isValidPattern(channel) : !isValidName(channel)) {
      sub.fail(new SwitchboardError('INVALID_NAME', `invalid channel name: ${channel}`))
      return sub
    }
    let group = this.#groups.get(channel)
    if (group) {
      group.subs.add(sub)
      group.recover ||= sub.recover
      if (group.confirmed) sub.confirm()
      return sub
    }
    group = {
      channel,
      pattern: pattern ? compilePattern(channel) : undefined,
      subs: new Set([sub]),
      recover: sub.recover,
      confirmed: false,
      position: undefined,
      recovery: undefined,
    }
    this.#groups.set(channel, group)
    if (pattern) this.#patternGroups++
    if (this.conn.state === 'connected') this.#sendSubscribe(group)
    return sub
  }

  /**
   * Every publish carries an id (`options.id`, or one made here): one sent when the connection
   * dropped is sent again after the reconnect, and the server publishes it once.
   */
  async publish(
    channel: string,
    data: unknown,
    options: PublishOptions = {},
  ): Promise<{ offset: number; epoch: string }> {
    if (!isValidName(channel)) throw new SwitchboardError('INVALID_NAME', `invalid channel name: ${channel}`)
    const { id = this.#publishIds.next() } = options
    if (typeof id !== 'string' || id.length === 0 || id.length > 64) {
      throw new SwitchboardError('INVALID_MESSAGE', 'a publication id has 1-64 characters')
    }
    const r = await this.conn.request<PublishReply>(
      { t: 'pub', ch: channel, d: data, w: id },
      { queue: true, resend: true },
    )
    return { offset: r.o, epoch: r.e }
  }

  async history(channel: string, options: { since?: StreamPosition; limit?: number } = {}): Promise<HistoryResult> {
    const body: { t: 'hist'; ch: string; since?: StreamPosition; limit?: number } = { t: 'hist', ch: channel }
    if (options.since) body.since = { offset: options.since.offset, epoch: options.since.epoch }
    if (options.limit !== undefined) body.limit = options.limit
    const r = await this.conn.request<HistoryReply>(body, { queue: true })
    return { publications: r.pubs.map((p) => ({ data: p.d, offset: p.o, epoch: r.e })), epoch: r.e, offset: r.o }
  }

  #sendSubscribe(group: Group, resume = false): void {
    const body: { t: 'sub'; ch: string; since?: StreamPosition } = { t: 'sub', ch: group.channel }
    group.recovery = undefined
    if ((group.recover || resume) && group.position && !group.pattern) {
      body.since = group.position
      group.recovery = { held: [], answered: false, early: [], missed: 0 }
    }
    const recovery = group.recovery
    this.conn.request<SubscribeReply | Record<string, never>>(body).then(
      (reply) => {
        if (this.#groups.get(group.channel) !== group) return
        const rec = 'rec' in reply ? reply.rec : undefined
        if (rec && recovery && group.recovery === recovery) {
          recovery.answered = true
          recovery.missed += this.#replay(group, rec.pubs, reply.e)
          if (!rec.more) this.#endRecovery(group, rec.complete)
          else for (const page of recovery.early.splice(0)) this.#applyPage(group, page)
        } else if (recovery && group.recovery === recovery) {
          this.#endRecovery(group, undefined)
        }
        // A paged recovery has not reached `o` yet: its pages move the position.
        if ('o' in reply && reply.o !== undefined && !rec?.more) advance(group, { offset: reply.o, epoch: reply.e })
        if (!group.confirmed) {
          group.confirmed = true
          for (const s of group.subs) s.confirm()
        }
      },
      (error: SwitchboardError) => {
        if (group.recovery === recovery) group.recovery = undefined
        // A dropped connection is not a failure: the subscription is restored on reconnect.
        if (error.code === 'DISCONNECTED' || error.code === 'CLOSED') return
        if (this.#groups.get(group.channel) === group) this.#end(group.channel, error)
      },
    )
  }

  /** Delivers recovered publications; returns how many were new. */
  #replay(group: Group, pubs: RecoveredPublication[], epoch: string): number {
    let missed = 0
    for (const p of pubs) {
      if (this.#deliver(group, group.channel, p.o, epoch, p.d, p.p)) missed++
    }
    return missed
  }

  #onRecoveryPage(m: RecoveryPageMessage): void {
    const recovery = this.#groups.get(m.ch)?.recovery
    if (!recovery) return
    if (recovery.answered) this.#applyPage(this.#groups.get(m.ch) as Group, m)
    else recovery.early.push(m)
  }

  #applyPage(group: Group, page: RecoveryPageMessage): void {
    const recovery = group.recovery as RecoveryProgress
    recovery.missed += this.#replay(group, page.pubs, page.e)
    if (!page.more) this.#endRecovery(group, page.complete === true)
  }

  /**
   * Tells the subscriptions (when the server answered the recovery: `complete` defined), then
   * delivers what arrived meanwhile, after the recovered publications; duplicates drop out.
   */
  #endRecovery(group: Group, complete: boolean | undefined): void {
    const recovery = group.recovery as RecoveryProgress
    group.recovery = undefined
    if (complete !== undefined) for (const s of group.subs) if (s.recover) s.recovered(recovery.missed, complete)
    for (const m of recovery.held) this.#deliver(group, m.ch, m.o, m.e, m.d, m.p)
  }

  #onPublication(m: PublicationMessage): void {
    const group = this.#groups.get(m.ch)
    if (group?.recovery) group.recovery.held.push(m)
    else if (group) this.#deliver(group, m.ch, m.o, m.e, m.d, m.p)
    if (this.#patternGroups === 0) return
    for (const g of this.#groups.values()) {
      if (g.pattern?.matches(m.ch)) this.#deliver(g, m.ch, m.o, m.e, m.d, m.p)
    }
  }

  /** Delivers unless already delivered (same epoch, offset not past the last one). */
  #deliver(
    group: Group,
    channel: string,
    offset: number,
    epoch: string,
    data: unknown,
    publisher: PublicationInfo['publisher'],
  ): boolean {
    if (!group.pattern) {
      const pos = group.position
      if (pos && pos.epoch === epoch && offset <= pos.offset) return false
      group.position = { offset, epoch }
    }
    const info: PublicationInfo = { channel, offset, epoch }
    if (publisher) info.publisher = publisher
    for (const s of group.subs) {
      try {
        s.handler(data, info)
      } catch (err) {
        setTimeout(() => {
          throw err
        })
      }
    }
    return true
  }

  #unsubscribe(sub: Subscription): void {
    const group = this.#groups.get(sub.channel)
    if (!group || !group.subs.delete(sub) || group.subs.size > 0) return
    this.#groups.delete(group.channel)
    if (group.pattern) this.#patternGroups--
    if (this.conn.state === 'connected') this.conn.request({ t: 'unsub', ch: group.channel }).catch(() => {})
  }

  #end(channel: string, error: SwitchboardError): void {
    const group = this.#groups.get(channel)
    if (!group) return
    this.#groups.delete(channel)
    if (group.pattern) this.#patternGroups--
    for (const s of group.subs) s.fail(error)
  }
}

/** Moves the position forward (a new epoch replaces it: the stream was reset). */
function advance(group: Group, next: StreamPosition): void {
  const pos = group.position
  if (!pos || pos.epoch !== next.epoch || next.offset > pos.offset) group.position = next
}
