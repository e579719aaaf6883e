import { isValidName, jsonCodec, type RecordChangeMessage, type RecordSnapshotReply } from '@switchboard/protocol'
import type { RecordStore } from '@switchboard/storage'
import type { Logger } from 'pino'
import type { AuthUser } from '../auth/authenticator.js'
import type { OccupancyObserver } from '../core/occupancy-observer.js'
import type { Broker, BrokerHandler, Publication } from '../engine/broker.js'
import { SwitchboardError } from '../errors.js'
import type { SubscriptionBudget } from '../limits/subscription-budget.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import type { Session } from '../session/session.js'
import { EncodedFrame } from '../transports/transport.js'
import { RecentWrites, writeKey, type WriteOutcome } from './recent-writes.js'
import { RecordLane, type LaneHost } from './record-lane.js'
import { WarmStates } from './warm-states.js'
import { stateOf, type RecordState, type WritePlanner, type WriteRequest } from './write-plan.js'

/**
 * Committed changes travel through the broker on these internal streams, so every node's
 * subscribers hear them. `$` is not allowed in user channel names: clients cannot subscribe.
 */
export const RECORD_STREAM_PREFIX = '$records/'
const NO_HISTORY = { history: { size: 0, ttlMs: 0 } }

/** A snapshot as core hands it out: undefined data = the record does not exist. */
export interface RecordSnapshot {
  version: number
  data: unknown
}

export interface RecordServiceOptions {
  store: Promise<RecordStore>
  broker: Broker
  policy: AccessPolicy
  planner: WritePlanner
  /** limits.maxSubscriptionsPerConnection, shared with channels. */
  budget: SubscriptionBudget
  log: Logger
  /** Told when a record gains its first local subscriber and loses its last (listening, hooks). */
  occupancy?: OccupancyObserver
}

/**
 * Records in core: per-record write lanes (ordering, batching, compare-and-set), local
 * subscriptions and fan-out. Every committed write is acknowledged first, then published on
 * `$records/<name>` through the broker; fan-out to this node's subscribers happens when the
 * broker delivers it back (`onPublication`), encoded once per change.
 */
export class RecordService implements BrokerHandler {
  private readonly lanes = new Map<string, RecordLane>()
  private readonly subscribers = new Map<string, Set<Session>>()
  private readonly bySession = new Map<Session, Set<string>>()
  private readonly recent = new RecentWrites()
  private readonly warm = new WarmStates()
  private store: RecordStore | undefined
  private closed = false
  private readonly laneHost: LaneHost = {
    load: async (name) => stateOf(await (this.store ?? (await this.options.store)).get(name)),
    plan: (state, req) => this.options.planner.plan(state, req),
    commit: async (name, base, next) => {
      const store = this.store ?? (await this.options.store)
      return next.data === undefined
        ? store.delete(name, base.version, next.version)
        : store.write(name, next.data, base.version, next.version)
    },
    idle: (lane) => this.retire(lane),
    storageFailed: (name, err) => this.options.log.error({ err, record: name }, 'record storage failed'),
  }

  constructor(private readonly options: RecordServiceOptions) {
    options.store.then(
      (store) => (this.store = store),
      () => {},
    )
  }

  // ---- writes ------------------------------------------------------------------------------

  /**
   * Queues a write on its record's lane; `done` hears the outcome synchronously after commit,
   * before subscribers are notified. A repeated client write id is applied once.
   */
  write(req: WriteRequest, done: (outcome: WriteOutcome) => void): void {
    if (!isValidName(req.name)) return done({ ok: false, error: invalidName(req.name) })
    if (this.closed)
      return done({ ok: false, error: new SwitchboardError('UNAVAILABLE', 'the server is shutting down') })
    const key = req.writeId === undefined ? undefined : writeKey(req.user?.id, req.writeId)
    if (key !== undefined && !this.recent.begin(key, done)) return
    const settle = (outcome: WriteOutcome) => {
      if (key !== undefined) this.recent.settle(key, outcome)
      done(outcome)
    }
    this.lane(req.name).push({
      kind: 'write',
      req,
      committed: (version, planned) => {
        settle({ ok: true, version })
        if (planned.change) this.publish(planned.change)
      },
      failed: (error) => settle({ ok: false, error }),
    })
  }

  // ---- reads and subscriptions -------------------------------------------------------------

  /** Reads after every write queued before it. `user` null + trusted skips the read rule. */
  read(name: string, user: AuthUser | null, trusted: boolean): Promise<RecordSnapshot> {
    if (!isValidName(name)) return Promise.reject(invalidName(name))
    return new Promise<RecordSnapshot>((resolve, reject) => {
      this.lane(name).push({
        kind: 'read',
        run: (state) => {
          if (!trusted && !this.canRead(name, user, state)) reject(denied(name))
          else resolve({ version: state.version, data: state.data })
        },
        failed: reject,
      })
    })
  }

  /**
   * Subscribes a session and sends it the snapshot reply in the same synchronous step as it
   * joins the fan-out, so it sees every later change exactly once. Subscribing again resends
   * the snapshot. `known`: the version the client has; `writeIds`: writes it is unsure about.
   */
  subscribe(
    session: Session,
    id: number,
    name: string,
    known: number | undefined,
    writeIds: string[] | undefined,
  ): Promise<void> {
    if (!isValidName(name)) return Promise.reject(invalidName(name))
    const { budget } = this.options
    // A unit of the budget is taken up front and handed back unless this call is what joins.
    const taken = !this.bySession.get(session)?.has(name)
    if (taken) {
      try {
        budget.take(session)
      } catch (err) {
        return Promise.reject(err)
      }
    }
    const giveBack = () => taken && budget.release(session)
    return new Promise<void>((resolve, reject) => {
      this.lane(name).push({
        kind: 'read',
        run: (state) => {
          if (session.phase === 'closed') return resolve(void giveBack())
          if (!this.canRead(name, session.user, state)) {
            giveBack()
            return reject(denied(name))
          }
          if (!this.join(session, name)) giveBack()
          session.send({ t: 'ok', id, r: this.snapshotReply(state, session.user, known, writeIds) })
          resolve()
        },
        failed: (err) => {
          giveBack()
          reject(err)
        },
      })
    })
  }

  unsubscribe(session: Session, name: string): void {
    if (!this.bySession.get(session)?.delete(name))
      throw new SwitchboardError('NOT_SUBSCRIBED', `not subscribed to record ${name}`)
    this.leave(session, name)
  }

  /** After the session's user changed (token refresh): ends subscriptions it may no longer read. */
  recheck(session: Session): void {
    for (const name of [...(this.bySession.get(session) ?? [])]) {
      this.lane(name).push({
        kind: 'read',
        run: (state) => {
          if (this.canRead(name, session.user, state) || !this.bySession.get(session)?.delete(name)) return
          this.leave(session, name)
          session.send({ t: 'rend', n: name, code: 'PERMISSION_DENIED', msg: `no longer allowed to read ${name}` })
        },
        failed: () => {},
      })
    }
  }

  removeSession(session: Session): void {
    const names = this.bySession.get(session)
    if (!names) return
    this.bySession.delete(session)
    for (const name of names) this.leave(session, name)
  }

  /** The snapshot part of a reply, and which of the client's uncertain writes it includes. */
  snapshotReply(
    state: RecordSnapshot,
    user: AuthUser | null,
    known?: number,
    writeIds?: string[],
  ): RecordSnapshotReply {
    const reply: RecordSnapshotReply = { v: state.version }
    if (known === state.version) reply.same = true
    else if (state.data !== undefined) reply.d = state.data
    if (writeIds && writeIds.length > 0) {
      const included = writeIds.filter(
        (w) => (this.recent.committedVersion(writeKey(user?.id, w)) ?? Infinity) <= state.version,
      )
      if (included.length > 0) reply.w = included
    }
    return reply
  }

  // ---- fan-out -----------------------------------------------------------------------------

  onPublication(pub: Publication): void {
    const change = pub.data as RecordChangeMessage
    const lane = this.lanes.get(change.n)
    // A change committed by another node leaves our state behind (reads reload; writes find out by CAS).
    lane?.observe(change.v)
    const sessions = this.subscribers.get(change.n)
    if (!sessions || sessions.size === 0) return
    const frame = new EncodedFrame(jsonCodec.encode(change) as string)
    for (const session of sessions) session.enqueue(frame)
  }

  private publish(change: RecordChangeMessage): void {
    this.options.broker
      .publish(RECORD_STREAM_PREFIX + change.n, change, NO_HISTORY)
      .catch((err: unknown) => this.options.log.error({ err, record: change.n }, 'record change publish failed'))
  }

  /** Returns false when the session was already subscribed. */
  private join(session: Session, name: string): boolean {
    let names = this.bySession.get(session)
    if (!names) this.bySession.set(session, (names = new Set()))
    if (names.has(name)) return false
    names.add(name)
    let set = this.subscribers.get(name)
    if (!set) {
      this.subscribers.set(name, (set = new Set()))
      this.options.occupancy?.occupied('record', name)
      this.options.broker
        .subscribe(RECORD_STREAM_PREFIX + name)
        .catch((err: unknown) => this.options.log.error({ err }, 'broker subscribe failed'))
    }
    set.add(session)
    return true
  }

  private leave(session: Session, name: string): void {
    this.options.budget.release(session)
    const set = this.subscribers.get(name)
    if (!set?.delete(session) || set.size > 0) return
    this.subscribers.delete(name)
    this.options.occupancy?.vacated('record', name)
    this.options.broker
      .unsubscribe(RECORD_STREAM_PREFIX + name)
      .catch((err: unknown) => this.options.log.error({ err }, 'broker unsubscribe failed'))
    const lane = this.lanes.get(name)
    if (lane) this.retire(lane)
  }

  private canRead(name: string, user: AuthUser | null, state: RecordState): boolean {
    return this.options.policy.allows({ kind: 'records', action: 'read', name, user, old: state.data })
  }

  // ---- lanes ------------------------------------------------------------------------------

  private lane(name: string): RecordLane {
    let lane = this.lanes.get(name)
    if (!lane) {
      this.lanes.set(name, (lane = new RecordLane(name, this.laneHost)))
      lane.state = this.warm.take(name)
    }
    return lane
  }

  /**
   * Lanes live while busy or subscribed (then change notifications keep their state current).
   * An idle lane nobody subscribes to goes; its state stays warm for the next burst of writes.
   */
  private retire(lane: RecordLane): void {
    if (lane.busy || this.subscribers.has(lane.name) || this.lanes.get(lane.name) !== lane) return
    this.lanes.delete(lane.name)
    if (lane.state) this.warm.put(lane.name, lane.state)
  }

  /** Lets queued writes finish, then closes the store. */
  async close(): Promise<void> {
    this.closed = true
    while ([...this.lanes.values()].some((l) => l.busy)) await new Promise((r) => setTimeout(r, 5))
    const store = await this.options.store.catch(() => undefined)
    await store?.close()
  }
}

function invalidName(name: string): SwitchboardError {
  return new SwitchboardError('INVALID_NAME', `invalid record name: ${String(name).slice(0, 300)}`)
}

function denied(name: string): SwitchboardError {
  return new SwitchboardError('PERMISSION_DENIED', `not allowed to read ${name}`)
}
