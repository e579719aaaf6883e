import {
  canonicalQueryKey,
  collectionOf,
  parseQuery,
  type QueryRow,
  type QuerySpec,
  type QuerySubscribeReply,
} from '@switchboard/protocol'
import { isQueryable, type QueryableStore, type RecordStore } from '@switchboard/storage'
import type { AuthUser } from '../auth/authenticator.js'
import type { Broker } from '../engine/broker.js'
import { SwitchboardError } from '../errors.js'
import type { Logger } from '../log.js'
import type { AccessPolicy } from '../permissions/access-policy.js'
import type { Session } from '../session/session.js'
import { EncodedFrame } from '../transports/transport.js'
import { audienceFor, type Audience } from './audience.js'
import { CollectionFeed } from './collection-feed.js'
import { LiveView, type ViewMember } from './live-view.js'
import { readReadable } from './read-rows.js'
import type { WindowRow } from './window.js'

export interface QueryLimits {
  maxQueryResults: number
  maxQueriesPerConnection: number
  maxQueryClauses: number
}

export interface QueryServiceOptions {
  store: Promise<RecordStore>
  broker: Broker
  /** Where record changes travel: `<prefix><name>`; a feed subscribes `<prefix><collection>/*`. */
  streamPrefix: string
  policy: AccessPolicy
  limits: QueryLimits
  log: Logger
  /** `rerun`: the naive strategy, for benchmarks (see ViewHost.rerun). Default `incremental`. */
  strategy?: QueryStrategy
}

export type QueryStrategy = 'incremental' | 'rerun'

/** One live query of a connection. */
interface Membership {
  readonly member: ViewMember
  readonly spec: QuerySpec
  view: LiveView
}

/**
 * Live queries on this node: per-connection queries (limits, ids), one shared `LiveView` per
 * canonical query and audience, one `CollectionFeed` per collection with views. Also one-off
 * queries (`server.records.query`, `POST /api/query`).
 */
export class QueryService {
  private readonly feeds = new Map<string, CollectionFeed>()
  private readonly feedReady = new WeakMap<CollectionFeed, Promise<void>>()
  private readonly views = new Map<string, LiveView>()
  private readonly bySession = new Map<Session, Map<number, Membership>>()
  private queryable: (RecordStore & QueryableStore) | undefined

  constructor(private readonly options: QueryServiceOptions) {}

  /** The shared live views on this node (read-only use: the admin view). */
  liveViews(): Iterable<LiveView> {
    return this.views.values()
  }

  /** Validates a query against the configured limits (INVALID_NAME / INVALID_DATA). */
  parse(collection: unknown, options: unknown): QuerySpec {
    const { maxQueryResults, maxQueryClauses } = this.options.limits
    return parseQuery(collection, options, { maxResults: maxQueryResults, maxClauses: maxQueryClauses })
  }

  // ---- live queries ------------------------------------------------------------------------

  /**
   * Opens live query `q` of a session and answers request `id` with the current rows (leaving
   * out the data of rows the client listed in `known` at the same version), in the same
   * synchronous step as the session starts receiving the query's changes.
   */
  async subscribe(
    session: Session,
    id: number,
    q: number,
    spec: QuerySpec,
    known?: Map<string, number>,
  ): Promise<void> {
    let mine = this.bySession.get(session)
    if (mine?.has(q)) throw new SwitchboardError('ALREADY_SUBSCRIBED', `live query ${q} is already open`)
    const max = this.options.limits.maxQueriesPerConnection
    if ((mine?.size ?? 0) >= max) {
      throw new SwitchboardError('TOO_MANY_SUBSCRIPTIONS', `at most ${max} live queries per connection`)
    }
    const store = await this.store()
    if (session.phase === 'closed' || this.bySession.get(session)?.has(q)) return
    const audience = this.audience(spec.collection, session.user)
    if (!mine) this.bySession.set(session, (mine = new Map()))
    const membership: Membership = { member: { session, q }, spec, view: this.viewFor(store, spec, audience) }
    mine.set(q, membership)
    membership.view.join(
      membership.member,
      (view) => {
        // Without `known` the reply is the view's shared encoding of its rows, with this id.
        if (known) session.send({ t: 'ok', id, r: reply(view.rows, known) })
        else session.enqueue(new EncodedFrame(`{"t":"ok","id":${id},"r":{"rows":${view.encodedRows()}}}`))
      },
      () => {
        this.forget(session, q)
        session.sendError(id, 'UNAVAILABLE', 'the live query could not read storage; try again')
      },
    )
  }

  unsubscribe(session: Session, q: number): void {
    const membership = this.forget(session, q)
    if (!membership) throw new SwitchboardError('NOT_SUBSCRIBED', `live query ${q} is not open`)
    membership.view.leave(membership.member)
  }

  removeSession(session: Session): void {
    const mine = this.bySession.get(session)
    if (!mine) return
    this.bySession.delete(session)
    for (const { view, member } of mine.values()) view.leave(member)
  }

  /**
   * After a token refresh: a query whose audience changed moves to the view for the new one
   * and gets that view's whole result (`all`); one that may no longer read the collection ends.
   */
  recheck(session: Session): void {
    const mine = this.bySession.get(session)
    const store = this.queryable
    if (!mine || !store) return
    for (const [q, membership] of mine) {
      let audience: Audience
      try {
        audience = this.audience(membership.spec.collection, session.user)
      } catch (err) {
        this.forget(session, q)
        membership.view.leave(membership.member)
        session.send({ t: 'qend', q, code: 'PERMISSION_DENIED', msg: (err as Error).message })
        continue
      }
      if (audience.key === membership.view.audience.key) continue
      membership.view.leave(membership.member)
      membership.view = this.viewFor(store, membership.spec, audience)
      membership.view.join(
        membership.member,
        (view) => session.enqueue(new EncodedFrame(`{"t":"qchg","q":${q},"all":true,"up":${view.encodedRows()}}`)),
        () => {
          this.forget(session, q)
          session.send({ t: 'qend', q, code: 'UNAVAILABLE', msg: 'the live query could not read storage; query again' })
        },
      )
    }
  }

  // ---- one-off queries ---------------------------------------------------------------------

  /** The query's rows from storage, filtered by the read rules unless `trusted`. */
  async query(spec: QuerySpec, user: AuthUser | null, trusted: boolean): Promise<QueryRow[]> {
    const store = await this.store()
    const audience: Audience = trusted ? { key: 'trusted', canRead: () => true } : this.audience(spec.collection, user)
    const { rows } = await readReadable(store, spec, (r) => audience.canRead(r.name, r.version, r.data), spec.limit)
    return rows.map((r) => ({ name: r.name, version: r.version, data: r.data }))
  }

  // ---- changes -----------------------------------------------------------------------------

  /** This node committed a change (data undefined: deleted); before it is published. */
  committed(name: string, version: number, data: unknown): void {
    this.feeds.get(collectionOf(name))?.committed(name, version, data)
  }

  /** The engine delivered a record change (any node's). */
  delivered(name: string, version: number): void {
    this.feeds.get(collectionOf(name))?.delivered(name, version)
  }

  // ---- views and feeds ---------------------------------------------------------------------

  private viewFor(store: QueryableStore, spec: QuerySpec, audience: Audience): LiveView {
    const key = `${audience.key}\n${canonicalQueryKey(spec)}`
    let view = this.views.get(key)
    if (view) return view
    const feed = this.feedFor(spec.collection)
    const shared = feed.audiences.get(audience.key) ?? audience
    feed.audiences.set(audience.key, shared)
    view = new LiveView(key, spec, shared, {
      store,
      log: this.options.log,
      rerun: this.options.strategy === 'rerun',
      routing: feed,
      released: (v) => this.release(v, feed),
    })
    this.views.set(key, view)
    feed.add(view)
    view.start(this.feedReady.get(feed) as Promise<void>)
    return view
  }

  private feedFor(collection: string): CollectionFeed {
    let feed = this.feeds.get(collection)
    if (feed) return feed
    feed = new CollectionFeed(collection, { store: this.queryable as RecordStore, log: this.options.log })
    this.feeds.set(collection, feed)
    // Views load only once the engine delivers the collection's changes to this node.
    this.feedReady.set(feed, this.options.broker.subscribe(this.pattern(collection)))
    return feed
  }

  private release(view: LiveView, feed: CollectionFeed): void {
    if (this.views.get(view.key) === view) this.views.delete(view.key)
    // A view that failed still has members: their queries ended (qend), forget them.
    for (const { session, q } of view.members) {
      if (this.bySession.get(session)?.get(q)?.view === view) this.forget(session, q)
    }
    feed.remove(view)
    if (![...feed.views].some((v) => v.audience.key === view.audience.key)) feed.audiences.delete(view.audience.key)
    if (feed.views.size > 0 || this.feeds.get(feed.collection) !== feed) return
    this.feeds.delete(feed.collection)
    feed.close()
    this.options.broker
      .unsubscribe(this.pattern(feed.collection))
      .catch((err: unknown) => this.options.log.error({ err }, 'broker unsubscribe failed'))
  }

  private pattern(collection: string): string {
    return `${this.options.streamPrefix}${collection}/*`
  }

  private audience(collection: string, user: AuthUser | null): Audience {
    const audience = audienceFor(this.options.policy, collection, user)
    if (!audience) throw new SwitchboardError('PERMISSION_DENIED', `no read rule covers the records of ${collection}`)
    return audience
  }

  private forget(session: Session, q: number): Membership | undefined {
    const mine = this.bySession.get(session)
    const membership = mine?.get(q)
    if (!membership) return undefined
    mine?.delete(q)
    if (mine?.size === 0) this.bySession.delete(session)
    return membership
  }

  private async store(): Promise<RecordStore & QueryableStore> {
    if (this.queryable) return this.queryable
    const store = await this.options.store
    if (!isQueryable(store)) throw new SwitchboardError('UNAVAILABLE', 'the record store does not support queries')
    return (this.queryable = store)
  }
}

function reply(rows: WindowRow[], known: Map<string, number>): QuerySubscribeReply {
  return {
    rows: rows.map((r) => (known.get(r.name) === r.version ? [r.name, r.version] : [r.name, r.version, r.data])),
  }
}
