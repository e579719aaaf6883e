import {
  isPattern,
  isValidName,
  isValidPattern,
  jsonCodec,
  type PublicationMessage,
  type PublisherInfo,
  type StreamPosition,
  type SubscribeReply,
} from '@switchboard/protocol'
import type { Logger } from 'pino'
import { SwitchboardError } from '../errors.js'
import type { SubscriptionBudget } from '../limits/subscription-budget.js'
import { allowAll, type AccessPolicy } from '../permissions/access-policy.js'
import type { Session } from '../session/session.js'
import { EncodedFrame } from '../transports/transport.js'
import type { Broker, BrokerHandler, HistoryResult, Publication } from '../engine/broker.js'
import type { ChannelOptionsResolver } from './channel-options.js'
import { SubscriptionIndex } from './subscription-index.js'

export interface Subscribed {
  reply: SubscribeReply | Record<string, never>
  replay: Publication[]
}

/** A session that is catching up on history: live publications wait here until it is done. */
type RecoveryBuffer = Map<Session, Publication[]>

/** What the channel service keeps per session; fan-out iterates these, not sessions. */
class ChannelMember {
  /** Channel names and patterns subscribed to. */
  readonly subscriptions = new Set<string>()
  /** Delivers a publication once even when a channel and patterns both match. */
  stamp = 0
  constructor(readonly session: Session) {}
}

/**
 * Channels in core: local subscriptions, recovery and fan-out. The broker only moves
 * publications and keeps history; everything about sessions happens here.
 */
export class ChannelService implements BrokerHandler {
  private readonly index = new SubscriptionIndex<ChannelMember>()
  private readonly members = new Map<Session, ChannelMember>()
  private readonly recovering = new Map<string, RecoveryBuffer>()
  private stamp = 0

  constructor(
    private readonly broker: Broker,
    private readonly options: ChannelOptionsResolver,
    private readonly budget: SubscriptionBudget,
    private readonly log: Logger,
    /** Checked per delivery on the pattern path only: exact subscribers were checked when they subscribed. */
    private readonly policy: AccessPolicy = allowAll,
  ) {}

  // ---- fan-out (BrokerHandler) -----------------------------------------------------------

  onPublication(pub: Publication): void {
    const exact = this.index.exactMembers(pub.channel)
    const buffers = this.recovering.get(pub.channel)
    const patterns = this.index.hasPatterns()
    if (!exact && !buffers && !patterns) return
    if (buffers) for (const list of buffers.values()) list.push(pub)
    const frame = new EncodedFrame(encodePublication(pub))
    const stamp = ++this.stamp
    if (exact) {
      // Stamps only matter when patterns could deliver the same publication a second time.
      if (patterns) for (const member of exact) member.stamp = stamp
      for (const member of exact) member.session.enqueue(frame)
    }
    if (patterns) {
      const policy = this.policy === allowAll ? undefined : this.policy
      this.index.forEachPatternMatch(pub.channel, (members) => {
        for (const member of members) {
          if (member.stamp === stamp) continue
          // A pattern spans channels the user may not read: each delivery asks for this channel.
          const user = member.session.user
          if (policy && !policy.allows({ kind: 'channels', action: 'subscribe', name: pub.channel, user })) continue
          member.stamp = stamp
          member.session.enqueue(frame)
        }
      })
    }
  }

  // ---- operations ----------------------------------------------------------------------

  async publish(channel: string, data: unknown, publisher?: PublisherInfo): Promise<StreamPosition> {
    if (!isValidName(channel)) throw new SwitchboardError('INVALID_NAME', `invalid channel name: ${channel}`)
    const opts: { history: ReturnType<ChannelOptionsResolver['history']>; publisher?: PublisherInfo } = {
      history: this.options.history(channel),
    }
    if (publisher) opts.publisher = publisher
    return this.broker.publish(channel, data, opts)
  }

  /**
   * Subscribes a session. The caller sends `reply` and then enqueues `replay` (live publications
   * that arrived during recovery) in the same synchronous step, so nothing can come between.
   */
  async subscribe(session: Session, channel: string, since?: StreamPosition): Promise<Subscribed> {
    const pattern = isPattern(channel)
    if (pattern ? !isValidPattern(channel) : !isValidName(channel)) {
      throw new SwitchboardError('INVALID_NAME', `invalid channel name: ${channel}`)
    }
    const member = this.member(session)
    if (member.subscriptions.has(channel)) {
      throw new SwitchboardError('ALREADY_SUBSCRIBED', `already subscribed to ${channel}`)
    }
    this.budget.take(session)
    member.subscriptions.add(channel)
    try {
      if (pattern) {
        // Patterns receive live publications only: there is no single stream to recover.
        if (this.index.add(channel, member, true)) await this.broker.subscribe(channel)
        return { reply: {}, replay: [] }
      }
      if (!since) {
        if (this.index.add(channel, member, false)) await this.broker.subscribe(channel)
        const h = await this.broker.history(channel, { limit: 0 }, this.options.history(channel))
        return { reply: { o: h.position.offset, e: h.position.epoch }, replay: [] }
      }
      return await this.recover(member, channel, since)
    } catch (err) {
      // A failed subscribe must not leave the name reserved.
      if (member.subscriptions.delete(channel)) this.leave(member, channel)
      throw err
    }
  }

  /**
   * Subscribes and replays what was missed after `since`, then what arrived meanwhile, so the
   * client sees every publication exactly once and in order.
   */
  private async recover(member: ChannelMember, channel: string, since: StreamPosition): Promise<Subscribed> {
    const session = member.session
    let buffers = this.recovering.get(channel)
    if (!buffers) this.recovering.set(channel, (buffers = new Map()))
    const buffered: Publication[] = []
    buffers.set(session, buffered)
    let history: HistoryResult
    // The recovery holds a broker reference of its own while it reads history; it hands it back
    // at the end unless the session is then the channel's first subscriber on this node.
    const release = () => this.release(channel)
    try {
      await this.broker.subscribe(channel)
      const opts = this.options.history(channel)
      history = await this.broker.history(channel, { since, limit: Math.max(opts.size, 1) }, opts)
    } catch (err) {
      release()
      throw err
    } finally {
      buffers.delete(session)
      if (buffers.size === 0) this.recovering.delete(channel)
    }
    const pubs = history.publications
    const last =
      pubs.length > 0
        ? (pubs[pubs.length - 1] as Publication).offset
        : since.epoch === history.position.epoch
          ? since.offset
          : 0
    const reply: SubscribeReply = {
      o: history.position.offset,
      e: history.position.epoch,
      rec: {
        pubs: pubs.map((p) => (p.publisher ? { o: p.offset, d: p.data, p: p.publisher } : { o: p.offset, d: p.data })),
        complete: history.complete,
      },
    }
    if (session.phase === 'closed' || !member.subscriptions.has(channel)) {
      release()
      return { reply, replay: [] }
    }
    if (!this.index.add(channel, member, false)) release()
    // Live publications that raced with the history read go out after the reply, minus duplicates.
    const replay = buffered.filter((p) => p.epoch === history.position.epoch && p.offset > last)
    return { reply, replay }
  }

  unsubscribe(session: Session, channel: string): void {
    const member = this.members.get(session)
    if (!member?.subscriptions.delete(channel)) {
      throw new SwitchboardError('NOT_SUBSCRIBED', `not subscribed to ${channel}`)
    }
    this.leave(member, channel)
  }

  async history(channel: string, query: { since?: StreamPosition; limit?: number }): Promise<HistoryResult> {
    if (!isValidName(channel)) throw new SwitchboardError('INVALID_NAME', `invalid channel name: ${channel}`)
    const opts = this.options.history(channel)
    const q: { since?: StreamPosition; limit: number } = { limit: Math.min(query.limit ?? 100, Math.max(opts.size, 0)) }
    if (query.since) q.since = query.since
    return this.broker.history(channel, q, opts)
  }

  /** Drops every subscription of a closed session. */
  removeSession(session: Session): void {
    const member = this.members.get(session)
    if (!member) return
    this.members.delete(session)
    for (const channel of member.subscriptions) this.leave(member, channel)
    member.subscriptions.clear()
  }

  /**
   * After the session's user changed (token refresh): ends, with an `unsubbed` push, every
   * subscription the new user may no longer hold. Pattern deliveries re-check on their own.
   */
  recheck(session: Session): void {
    const member = this.members.get(session)
    if (!member || this.policy === allowAll) return
    for (const channel of [...member.subscriptions]) {
      if (this.policy.allows({ kind: 'channels', action: 'subscribe', name: channel, user: session.user })) continue
      member.subscriptions.delete(channel)
      this.leave(member, channel)
      session.send({
        t: 'unsubbed',
        ch: channel,
        code: 'PERMISSION_DENIED',
        msg: `no longer allowed to subscribe to ${channel}`,
      })
    }
  }

  subscriberCount(): number {
    return this.index.count()
  }

  private member(session: Session): ChannelMember {
    let member = this.members.get(session)
    if (!member) this.members.set(session, (member = new ChannelMember(session)))
    return member
  }

  private leave(member: ChannelMember, channel: string): void {
    this.budget.release(member.session)
    if (this.index.remove(channel, member, isPattern(channel))) this.release(channel)
  }

  /** Hands back one broker reference (each broker subscribe, even one that failed, is matched by one unsubscribe). */
  private release(channel: string): void {
    this.broker
      .unsubscribe(channel)
      .catch((err: unknown) => this.log.error({ err, channel }, 'broker unsubscribe failed'))
  }
}

export function encodePublication(pub: Publication): string {
  const m: PublicationMessage = { t: 'msg', ch: pub.channel, o: pub.offset, e: pub.epoch, d: pub.data }
  if (pub.publisher) m.p = pub.publisher
  return jsonCodec.encode(m) as string
}
