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
import { ignoreOccupancy, type OccupancyObserver } from '../core/occupancy-observer.js'
import { SwitchboardError } from '../errors.js'
import { allowAll, type AccessPolicy } from '../permissions/access-policy.js'
import type { Session } from '../session/session.js'
import type { Broker, BrokerHandler, HistoryResult, Publication, PublishOptions } from '../engine/broker.js'
import type { SubscriptionBudget } from '../limits/subscription-budget.js'
import { EncodedFrame } from '../transports/transport.js'
import type { ChannelOptionsResolver } from './channel-options.js'
import { PollUntil } from '../session/poll-until.js'
import { PUBLISH_DEDUPE_WINDOW_MS } from './publish-ids.js'
import { Recovery } from './recovery.js'
import { SubscriptionIndex } from './subscription-index.js'

export interface Subscribed {
  reply: SubscribeReply | Record<string, never>
  /** Call right after sending `reply`, in the same synchronous step (a recovery goes on from there). */
  start?: () => void
}

const NONE: ReadonlySet<string> = new Set()

/** How often a paging recovery looks whether its session's outbound buffer drained. */
const DRAIN_POLL_MS = 5

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
  /** Sessions catching up on a channel's history; live publications are held by their recovery. */
  private readonly recovering = new Map<string, Map<Session, Recovery>>()
  /** The broker reference each recovery holds while it reads history (handed back or kept at its end). */
  private readonly recoveryRefs = new Map<Recovery, () => void>()
  private readonly drained = new PollUntil(DRAIN_POLL_MS)
  private stamp = 0

  constructor(
    private readonly broker: Broker,
    private readonly options: ChannelOptionsResolver,
    private readonly budget: SubscriptionBudget,
    private readonly limits: { maxBufferedBytes: number },
    private readonly log: Logger,
    /** Checked per delivery on the pattern path only: exact subscribers were checked when they subscribed. */
    private readonly policy: AccessPolicy = allowAll,
    /** Told when a channel gains its first local subscriber and loses its last (listening, hooks). */
    private readonly occupancy: OccupancyObserver = ignoreOccupancy,
  ) {}

  // ---- fan-out (BrokerHandler) -----------------------------------------------------------

  onPublication(pub: Publication): void {
    const exact = this.index.exactMembers(pub.channel)
    const recoveries = this.recovering.get(pub.channel)
    const patterns = this.index.hasPatterns()
    if (!exact && !recoveries && !patterns) return
    const frame = new EncodedFrame(encodePublication(pub))
    if (recoveries) for (const recovery of recoveries.values()) recovery.hold(pub, frame)
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

  // Not `async`: it hands back the broker's own promise, one promise and two microtask turns
  // fewer per publication than an async wrapper would cost (the rooms benchmark's hot path).
  /** `key`: the publication id scoped to its publisher (`publishKey`): a resend within the window publishes once. */
  publish(channel: string, data: unknown, publisher?: PublisherInfo, key?: string): Promise<StreamPosition> {
    if (!isValidName(channel)) {
      return Promise.reject(new SwitchboardError('INVALID_NAME', `invalid channel name: ${channel}`))
    }
    const opts: PublishOptions = { history: this.options.history(channel) }
    if (publisher) opts.publisher = publisher
    if (key !== undefined) opts.idempotency = { key, windowMs: PUBLISH_DEDUPE_WINDOW_MS }
    return this.broker.publish(channel, data, opts)
  }

  /**
   * Subscribes a session. The caller sends `reply` and then calls `start` in the same
   * synchronous step: a recovery joins live fan-out there (or pages on from there), so nothing
   * can come between.
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
        return { reply: {} }
      }
      if (!since) {
        if (this.index.add(channel, member, false)) {
          this.occupancy.occupied('channel', channel)
          await this.broker.subscribe(channel)
        }
        const h = await this.broker.history(channel, { limit: 0 }, this.options.history(channel))
        return { reply: { o: h.position.offset, e: h.position.epoch } }
      }
      return await this.recover(member, channel, since)
    } catch (err) {
      // A failed subscribe must not leave the name reserved.
      if (member.subscriptions.delete(channel)) this.leave(member, channel)
      throw err
    }
  }

  /**
   * Subscribes and replays what was missed after `since` (paged as the session drains, see
   * Recovery), then what arrived meanwhile: every publication once and in order.
   */
  private async recover(member: ChannelMember, channel: string, since: StreamPosition): Promise<Subscribed> {
    const session = member.session
    let sessions = this.recovering.get(channel)
    if (!sessions) this.recovering.set(channel, (sessions = new Map()))
    const opts = this.options.history(channel)
    const maxBuffered = this.limits.maxBufferedBytes
    const wanted = () => session.phase !== 'closed' && this.recovering.get(channel)?.get(session) === recovery
    const recovery: Recovery = new Recovery(
      channel,
      since,
      {
        read: (from, limit) => this.broker.history(channel, { since: from, limit }, opts),
        wanted,
        room: (bytes) => this.drained.until(() => !wanted() || session.outboundBytes() <= bytes),
        enqueue: (frame) => session.enqueue(frame),
        join: () => {
          // The recovery's broker reference becomes the channel's when this session is its first
          // subscriber here; otherwise it goes back.
          const ref = this.recoveryRefs.get(recovery)
          this.recoveryRefs.delete(recovery)
          this.endRecovery(session, channel)
          if (this.index.add(channel, member, false)) this.occupancy.occupied('channel', channel)
          else ref?.()
        },
        failed: (err) =>
          this.log.error({ err, channel, client: session.id }, 'recovery failed; answered complete: false'),
      },
      // A page, the level it waits for and what is held stay well under the slow-consumer limit.
      {
        pageBytes: Math.max(Math.floor(maxBuffered / 8), 1),
        maxPageCount: Math.max(opts.size, 1),
        maxHeldBytes: Math.floor(maxBuffered / 4),
        maxItemBytes: Math.floor(maxBuffered / 2),
      },
    )
    sessions.set(session, recovery)
    this.recoveryRefs.set(recovery, () => this.release(channel))
    try {
      await this.broker.subscribe(channel)
      return await recovery.begin()
    } catch (err) {
      if (this.recovering.get(channel)?.get(session) === recovery) this.endRecovery(session, channel)
      throw err
    }
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

  /** The channels and patterns a session is subscribed to (read-only use: the admin view). */
  subscriptionsOf(session: Session): ReadonlySet<string> {
    return this.members.get(session)?.subscriptions ?? NONE
  }

  /** Whether a local session is subscribed to exactly this channel. */
  hasSubscribers(channel: string): boolean {
    return (this.index.exactMembers(channel)?.size ?? 0) > 0
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
    const pattern = isPattern(channel)
    const last = this.index.remove(channel, member, pattern)
    // A recovery still under way holds a broker reference of its own: ending it hands that back.
    if (!pattern) this.endRecovery(member.session, channel)
    if (last) {
      if (!pattern) this.occupancy.vacated('channel', channel)
      this.release(channel)
    }
  }

  /** Hands back one broker reference (each broker subscribe, even one that failed, is matched by one unsubscribe). */
  private release(channel: string): void {
    this.broker
      .unsubscribe(channel)
      .catch((err: unknown) => this.log.error({ err, channel }, 'broker unsubscribe failed'))
  }

  /** Forgets a session's recovery of a channel (it stops at its next step); true if there was one. */
  private endRecovery(session: Session, channel: string): boolean {
    const sessions = this.recovering.get(channel)
    const recovery = sessions?.get(session)
    if (!sessions || !recovery) return false
    sessions.delete(session)
    if (sessions.size === 0) this.recovering.delete(channel)
    // A recovery that ends without joining hands its broker reference back.
    const ref = this.recoveryRefs.get(recovery)
    this.recoveryRefs.delete(recovery)
    ref?.()
    return true
  }
}

export function encodePublication(pub: Publication): string {
  const m: PublicationMessage = { t: 'msg', ch: pub.channel, o: pub.offset, e: pub.epoch, d: pub.data }
  if (pub.publisher) m.p = pub.publisher
  return jsonCodec.encode(m) as string
}
