import { isValidName, jsonCodec, type RecordChangeMessage, type RecordSnapshotReply } from '@switchboard/protocol'
import type { RecordStore } from '@switchboard/storage'
import type { Logger } from 'pino'
import type { AuthUser } from '../auth/authenticator.js'
import type { OccupancyObserver } from '../core/occupancy-observer.js'
import type { Broker, BrokerHandler, Publication } from '../engine/broker.js'
import type { CommittedWrites } from '../engine/committed-writes.js'
import { SwitchboardError } from '../errors.js'
import type { SubscriptionBudget } from '../limits/subscription-budget.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import type { Session } from '../session/session.js'
import { EncodedFrame } from '../transports/transport.js'
import { RecentWrites, writeKey, type WriteOutcome } from './recent-writes.js'
import { priorCommit, RecordLane, type LaneHost, type WriteJob } from './record-lane.js'
import { Laggards } from './laggards.js'
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

/** Hears every record change: for live queries, which must see each commit of a collection. */
export interface RecordChangeObserver {
  /** This node committed a change (data undefined: deleted), before it is published. */
  committed(name: string, version: number, data: unknown): void
  /** The engine delivered a change (this node's or another's), before subscribers get it. */
  delivered(change: RecordChangeMessage): void
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
  /** Cluster: write ids committed on any node (a resend through another node applies once). */
  committed?: CommittedWrites | undefined
  /** Outbound bytes over which a subscriber gets coalesced newest states (`Laggards`). */
  laggingAbove: number
}

const NO_NAMES: ReadonlySet<string> = new Set()

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
  private readonly observers: RecordChangeObserver[] = []
  private readonly laggards: Laggards
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
    this.laggards = new Laggards(options.laggingAbove, (session, names) => this.catchUp(session, names))
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
    const shared = key === undefined ? undefined : this.options.committed
    const job: WriteJob = {
      kind: 'write',
      req,
      committed: (version, planned) => {
        settle({ ok: true, version })
        shared?.remember(key as string, version)
        if (!planned.change) return
        for (const o of this.observers) o.committed(req.name, version, planned.state.data)
        this.publish(planned.change)
      },
      failed: (error) => settle({ ok: false, error }),
    }
    // Cluster: another node may have committed this very write (a resend after its node died).
    if (shared) {
      job.prior = priorCommit(shared.lookup(key as string))
      job.duplicate = (version) => settle({ ok: true, version })
    }
    this.lane(req.name).push(job)
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
    // The first subscriber here starts listening to the record's changes before its snapshot is
    // read (the lane waits, then reloads), so no change committed on another node falls between.
    // That listening reference stays with the subscriber set it creates, or is handed back.
    const listening = this.subscribers.has(name)
      ? undefined
      : this.options.broker.subscribe(RECORD_STREAM_PREFIX + name)
    let holding = listening !== undefined
    const handBack = () => {
      if (!holding) return
      holding = false
      this.unlisten(name)
    }
    return new Promise<void>((resolve, reject) => {
      this.lane(name).push({
        kind: 'read',
        before: listening,
        run: (state) => {
          if (session.phase === 'closed') {
            handBack()
            return resolve(void giveBack())
          }
          if (!this.canRead(name, session.user, state)) {
            handBack()
            giveBack()
            return reject(denied(name))
          }
          const joined = this.join(session, name)
          if (joined === 'created') {
            // Created without a reference of its own (the set emptied meanwhile): listen now.
            if (holding) holding = false
            else this.listen(name)
          } else {
            handBack()
            if (joined === 'already') giveBack()
          }
          session.send({ t: 'ok', id, r: this.snapshotReply(state, session.user, known, writeIds) })
          resolve()
        },
        failed: (err) => {
          handBack()
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

  /** The records a session is subscribed to (read-only use: the admin view). */
  subscriptionsOf(session: Session): ReadonlySet<string> {
    return this.bySession.get(session) ?? NO_NAMES
  }

  // ---- fan-out -----------------------------------------------------------------------------

  observe(observer: RecordChangeObserver): void {
    this.observers.push(observer)
  }

  onPublication(pub: Publication): void {
    const change = pub.data as RecordChangeMessage
    for (const o of this.observers) o.delivered(change)
    const lane = this.lanes.get(change.n)
    // A change committed by another node leaves our state behind (reads reload; writes find out by CAS).
    lane?.observe(change.v)
    const sessions = this.subscribers.get(change.n)
    if (!sessions || sessions.size === 0) return
    const frame = new EncodedFrame(jsonCodec.encode(change) as string)
    const laggards = this.laggards
    const lagging = laggards.of(change.n)
    for (const session of sessions) {
      if (lagging !== undefined) {
        const lag = lagging.get(session)
        if (lag !== undefined) {
          // Owed the newest state, or already sent a state that includes this change.
          if (lag.owed || change.v <= lag.sentVersion) continue
          laggards.forget(session, change.n)
        }
      }
      if (laggards.isBehind(session)) laggards.hold(session, change.n)
      else session.enqueue(frame)
    }
  }

  /** Lagging subscribers drained: each gets the newest state of the records it is owed, once. */
  private catchUp(session: Session, names: string[]): void {
    for (const name of names) {
      // Behind the writes queued so far, so the state is at least as new as every change delivered.
      this.lane(name).push({
        kind: 'read',
        run: (state) => this.laggards.send(session, name, state),
        failed: (err) => {
          // The store failed: try again a little later (the state stays owed).
          this.options.log.error({ err, record: name }, 'record catch-up read failed')
          setTimeout(() => this.bySession.get(session)?.has(name) && this.laggards.hold(session, name), 1000).unref()
        },
      })
    }
  }

  private publish(change: RecordChangeMessage): void {
    this.options.broker
      .publish(RECORD_STREAM_PREFIX + change.n, change, NO_HISTORY)
      .catch((err: unknown) => this.options.log.error({ err, record: change.n }, 'record change publish failed'))
  }

  /** Adds the session to the record's subscribers: 'created' when it is the first one here. */
  private join(session: Session, name: string): 'created' | 'added' | 'already' {
    let names = this.bySession.get(session)
    if (!names) this.bySession.set(session, (names = new Set()))
    if (names.has(name)) return 'already'
    names.add(name)
    let set = this.subscribers.get(name)
    const created = !set
    if (!set) {
      this.subscribers.set(name, (set = new Set()))
      this.options.occupancy?.occupied('record', name)
    }
    set.add(session)
    return created ? 'created' : 'added'
  }

  /** One broker reference on the record's change stream (matched by one `unlisten`). */
  private listen(name: string): void {
    this.options.broker
      .subscribe(RECORD_STREAM_PREFIX + name)
      .catch((err: unknown) => this.options.log.error({ err }, 'broker subscribe failed'))
  }

  private unlisten(name: string): void {
    this.options.broker
      .unsubscribe(RECORD_STREAM_PREFIX + name)
      .catch((err: unknown) => this.options.log.error({ err }, 'broker unsubscribe failed'))
  }

  private leave(session: Session, name: string): void {
    this.options.budget.release(session)
    this.laggards.forget(session, name)
    const set = this.subscribers.get(name)
    if (!set?.delete(session) || set.size > 0) return
    this.subscribers.delete(name)
    this.options.occupancy?.vacated('record', name)
    this.unlisten(name)
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
