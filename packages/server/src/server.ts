import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { CloseCode, type StreamPosition } from '@switchboard/protocol'
import type { RecordStore } from '@switchboard/storage'
import type { Authenticator } from './auth/authenticator.js'
import { systemClock, type Clock } from './clock.js'
import { setupSecurity } from './security.js'
import { adminModule } from './admin/module.js'
import { adminLiveChannel } from './admin/admin-names.js'
import { guardAdminNames } from './admin/admin-policy.js'
import { describeQuery, RecentWriteLog } from './admin/recent-writes.js'
import type { AdminSources } from './admin/snapshot.js'
import { channelsModule, type ChannelsModule } from './channels/module.js'
import { demoModule } from './demo/module.js'
import { resolveConfig } from './config/resolve.js'
import type { SwitchboardConfig, SwitchboardConfigInput } from './config/types.js'
import { composeWire } from './core/compose-modules.js'
import type { ModuleContext } from './core/module-context.js'
import { SchemaRegistry } from './data-schemas/schema-registry.js'
import type { HistoryResult } from './engine/broker.js'
import { listsNodes, type Engine } from './engine/engine.js'
import { createMemoryEngine } from './engine/memory/memory-engine.js'
import { createRedisEngine } from './engine/redis/redis-engine.js'
import { NodeTopics } from './engine/node-topics.js'
import { StreamRouter } from './engine/stream-router.js'
import { SwitchboardError } from './errors.js'
import type { ApiDeps } from './http/api-route.js'
import { BROWSER_BUNDLE_PATH, browserAssets } from './http/browser-bundle.js'
import { ClientAddresses } from './http/client-address.js'
import { pageMounter, StaticSite } from './http/static-site.js'
import { hooksModule } from './hooks/module.js'
import type { HookEventType } from './hooks/hook-events.js'
import type { ServerEventListener } from './hooks/server-events.js'
import { FrontDoor, type AttachOptions } from './http/front-door.js'
import { Router, sendJson } from './http/router.js'
import { Lifecycle, type ServerState } from './lifecycle.js'
import { ConnectRate } from './limits/connect-rate.js'
import { ConnectionGate, isAdmissionRefusal } from './limits/connection-gate.js'
import { RequestsPerIp } from './limits/requests-per-ip.js'
import { SubscriptionBudget } from './limits/subscription-budget.js'
import { createLogger, type Logger } from './log.js'
import { listeningModule } from './listening/module.js'
import type { ListenHandler, ServerListener, ServerListenOptions } from './listening/server-api.js'
import { countingDispatch, ServerCounters } from './metrics/counters.js'
import { NodeOccupancy } from './occupancy/node-occupancy.js'
import { prometheusMetrics } from './metrics/prometheus.js'
import { allowAll, type AccessPolicy } from './permissions/access-policy.js'
import { presenceModule, type PresenceModule } from './presence/module.js'
import { queriesModule, type QueriesModule } from './queries/module.js'
import type { ServerQueries } from './queries/server-api.js'
import type { ServerPresence } from './presence/server-api.js'
import { openRecordStore } from './records/open-store.js'
import { recordsModule, type RecordsModule } from './records/module.js'
import type { ServerRecords } from './records/server-records.js'
import { isValidPublishId, publishKey } from './channels/publish-ids.js'
import { refuseRevoked } from './revocation/refuse-revoked.js'
import { revocationModule } from './revocation/module.js'
import { RevokedUsers } from './revocation/revoked-users.js'
import { rpcModule, type RpcModule } from './rpc/module.js'
import type { ServerRpc } from './rpc/server-api.js'
import { connectionModule } from './session/connection-module.js'
import { FlushScheduler } from './session/flush-scheduler.js'
import { HeldPolls } from './transports/longpoll/held-polls.js'
import type { SessionHost } from './session/session-host.js'
import { SessionRegistry } from './session/session-registry.js'
import { drainWindowMs, SessionDrain, type DrainOption } from './session/drain.js'
import { fallbackRoutes } from './transports/fallback/routes.js'
import { relayedRequests } from './transports/fallback/routes.js'
import { LocalSessionDirectory } from './transports/fallback/session-directory.js'
import { RELAY_TOPIC, SessionRelay } from './transports/fallback/session-relay.js'
import { sseEndpoint } from './transports/sse/sse-endpoint.js'
import type { Transport, TransportSink } from './transports/transport.js'
import { WebSocketEndpoint } from './transports/websocket/websocket-endpoint.js'

/** A long-poll with nothing to answer is held this long, then answered empty (SPEC §5: ≤ 25 s). */
const POLL_HOLD_MS = 25_000

/** Pluggable parts; each defaults to the single-node implementation. */
export interface ServerOptions {
  logger?: Logger
  /** The cross-node parts (default: from `config.engine`; the memory engine for `type: memory`). */
  engine?: Engine
  /** Record storage (default: opened from `config.storage`; closed by `close()`). */
  store?: RecordStore
  authenticator?: Authenticator
  policy?: AccessPolicy
  /** Time for heartbeats, handshake and token expiry, RPC deadlines, hook retries and grace periods (default: the system clock). */
  clock?: Clock
  /** Benchmarks only: `rerun` re-runs live queries on every change instead of maintaining them. */
  queryStrategy?: 'incremental' | 'rerun'
}

export interface ListenOptions {
  port?: number
  host?: string
}

export type { AttachOptions }

export interface CloseOptions {
  /**
   * Drain first (what SIGTERM does): stop accepting, then tell each client to reconnect
   * elsewhere at its own moment within `server.drain.windowMs` (or the `windowMs` given): a
   * `drain` message with a reconnect hint, and close 4008 DRAINING. The node stops once its
   * clients are gone or the window has passed. Without it, every client is closed at once with
   * 4000 SHUTDOWN.
   */
  drain?: DrainOption
}

export interface SwitchboardServer {
  readonly state: ServerState
  readonly config: SwitchboardConfig
  readonly log: Logger
  /** This node's id on the engine. */
  readonly nodeId: string
  /** Resolves once the engine and storage are up (rejects if they could not start). */
  readonly ready: Promise<void>
  /** Runs standalone on its own HTTP server. */
  listen(options?: ListenOptions): Promise<{ port: number; host: string; url: string }>
  /**
   * An in-process listener (an active data provider): `handler(name, { active: true })` when a
   * channel (or, with `{ kind: 'record' }`, a record) matching `pattern` gains its first
   * subscriber and this listener is the one chosen for it, `{ active: false }` when it loses the
   * last one. Trusted: the `listen` rule is not checked.
   */
  listen(pattern: string, handler: ListenHandler, options?: ServerListenOptions): ServerListener
  /** Occupancy and connection events in process (the same events `hooks.url` receives). Returns an unsubscribe function. */
  on<T extends HookEventType>(event: T, listener: ServerEventListener<T>): () => void
  /**
   * Embeds into an existing Node http(s) server (Express, Fastify, Koa, …): WebSocket upgrades
   * on `/ws` and every HTTP route (API, `/sse`, health, metrics) are answered before the app's
   * own listeners, optionally under a path prefix.
   */
  attach(server: HttpServer | HttpsServer, options?: AttachOptions): void
  /** Handles Switchboard's HTTP routes; returns false for paths it does not own. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean
  /** Connects any transport (SSE, long-polling, in-memory) to a new session. */
  accept(transport: Transport): TransportSink
  /** With `id`, a publish repeated within the dedupe window (2 minutes) is published once. */
  publish(channel: string, data: unknown, options?: { id?: string }): Promise<StreamPosition>
  history(channel: string, query?: { since?: StreamPosition; limit?: number }): Promise<HistoryResult>
  /** In-process RPC handlers (`server.rpc.handle`) and server-side calls (`server.rpc.call`). */
  readonly rpc: ServerRpc
  /** Presence views (`server.presence.members(channel)`). */
  readonly presence: ServerPresence
  /** Records for the embedding app: get/set/update/delete (notifying subscribers like client writes), query. */
  readonly records: ServerRecords & ServerQueries
  /**
   * Ends every session of `userId` on every node (close 4500 AUTH_FAILED: its clients stop) and
   * refuses the credentials it had (a JWT issued, a webhook answer given, before the second of
   * the revocation) for 24 hours. Resolves once every node has been told. Also `POST /api/revoke`.
   */
  revoke(userId: string): Promise<void>
  /** Number of open connections. */
  connectionCount(): number
  /** Stops accepting, asks every client to reconnect elsewhere (at once, or spread over a drain window), then stops. */
  close(options?: CloseOptions): Promise<void>
}

/** The composition root: the only place that knows every part. */
export function createServer(input: SwitchboardConfigInput = {}, options: ServerOptions = {}): SwitchboardServer {
  const config = resolveConfig(input)
  const log = options.logger ?? createLogger(config.log.level)
  const lifecycle = new Lifecycle()
  const engine = options.engine ?? engineFor(config, log)
  const nodeTopics = engine.topics ?? new NodeTopics()
  // Auth and permission rules from config (or the embedder's own); refuses unsafe production setups.
  const clock = options.clock ?? systemClock
  const security = setupSecurity(input, config, options, log, { now: () => clock.now() })
  // With the admin view on, its names are for admins only, whatever the rules say.
  const policy = config.admin.enabled ? guardAdminNames(security.policy) : security.policy
  // Credentials of a revoked user (server.revoke) from before the revocation are refused everywhere.
  const revoked = new RevokedUsers(() => clock.now())
  const authenticator = refuseRevoked(security.authenticator, revoked)
  const counters = new ServerCounters()
  // Channels and records report first/last local subscribers here; it holds names in the engine.
  const occupancy = new NodeOccupancy(engine.occupancy, clock, config.hooks.graceMs, log)
  const store = options.store ? Promise.resolve(options.store) : openRecordStore(config.storage)
  store.catch(() => {}) // reported through `ready`
  const ctx: ModuleContext = {
    config,
    log,
    policy,
    engine,
    dataSchemas: new SchemaRegistry(config.schemas),
    budget: new SubscriptionBudget(config.limits.maxSubscriptionsPerConnection),
    counters,
    store,
    occupancy,
    clock,
  }

  // The concepts. Adding one is its folder and one entry here.
  const channels = channelsModule(ctx)
  const records = recordsModule(ctx)
  const rpc = rpcModule(ctx)
  const presence = presenceModule(ctx)
  const listening = listeningModule(ctx, occupancy)
  const revocation = revocationModule({ broker: engine.broker, revoked, clock, log })
  const hooks = hooksModule({ config: config.hooks, nodeId: engine.nodeId, clock, stats: counters.hooks, log })
  occupancy.onChange((change) => {
    counters.occupancy[change.type]++
    hooks.occupancyChanged(change)
  })
  const queries = queriesModule(ctx, records, { strategy: options.queryStrategy })
  const site = new StaticSite()
  const admin = adminModule({
    enabled: config.admin.enabled,
    sources: adminSourcesOf({
      engine,
      lifecycle,
      clock,
      registry: () => registry,
      channels,
      records,
      rpc,
      presence,
      queries,
      enabled: config.admin.enabled,
    }),
    rpc: rpc.api,
    publish: (channel, data) => channels.service.publish(channel, data),
    session: (id) => [...registry.list()].find((s) => s.id === id),
    clock,
    log,
  })
  const demo = demoModule({
    enabled: config.demo.enabled,
    rpc: rpc.api,
    records: records.api,
  })
  const concepts = [channels, records, rpc, presence, queries, listening, revocation, hooks, admin, demo] as const
  const connection = connectionModule({
    authenticator,
    onUserChanged: concepts.flatMap((m) => (m.userChanged ? [m.userChanged] : [])),
  })
  const modules = [connection, ...concepts] as const
  const wire = composeWire(modules)
  const streams = new StreamRouter()
  for (const m of modules) if ('stream' in m && m.stream) streams.route(m.stream.prefix, m.stream)

  const host: SessionHost = {
    config,
    log,
    scheduler: new FlushScheduler(() => clock.now()),
    counters,
    authenticator,
    validator: wire.validator,
    dispatch: countingDispatch(counters, wire.dispatch),
    sessionOpened(session) {
      for (const m of concepts) m.sessionOpened?.(session)
    },
    sessionClosed(session, code, reason) {
      registry.delete(session)
      for (const m of concepts) m.sessionClosed?.(session, code, reason)
    },
    now: () => clock.now(),
  }
  const registry = new SessionRegistry(host, clock)
  const accept = (transport: Transport): TransportSink => registry.create(transport)

  const ready = (async () => {
    await engine.open?.()
    if (!engine.topics) await engine.bus.start(nodeTopics)
    await engine.broker.start(streams)
    await occupancy.start()
    for (const m of modules) await m.start?.()
    lifecycle.to('running')
  })()
  ready.catch((err: unknown) => log.error({ err }, 'engine failed to start'))
  // Serving needs the engine too: while it is unreachable, /readyz is 503 and connections are refused.
  const engineReady = () => engine.health?.ready ?? true
  const running = () => lifecycle.state === 'running' && engineReady()
  // Deliveries to this node may be lost: every client reconnects (elsewhere) and recovers.
  engine.health?.onDisrupted(() => {
    if (registry.size === 0 || lifecycle.state !== 'running') return
    log.warn({ connections: registry.size }, 'engine connection lost: asking every client to reconnect and recover')
    registry.closeAll(CloseCode.ENGINE_LOST, 'the server lost its cluster engine; reconnect and recover')
  })

  const gate = new ConnectionGate(
    new ClientAddresses(config.server.trustProxy),
    config.limits.maxConnectionsPerIp,
    new ConnectRate(config.limits.connectsPerSecond, () => clock.now()),
  )
  const api: ApiDeps = {
    authenticator,
    cors: config.server.cors,
    maxBodyBytes: config.limits.maxMessageBytes,
    accepting: running,
    rate: new RequestsPerIp(config.limits.messagesPerSecond, config.limits.messagesBurst),
    counters,
    clientAddress: (req) => gate.check(req).address,
  }
  const router = new Router()
    .add('GET', '/healthz', (_req, res) => {
      sendJson(res, lifecycle.state === 'stopped' ? 503 : 200, { status: lifecycle.state })
    })
    .add('GET', '/readyz', (_req, res) => {
      const engineUp = engineReady()
      sendJson(
        res,
        running() ? 200 : 503,
        engineUp ? { status: lifecycle.state } : { status: lifecycle.state, engine: 'unreachable' },
      )
    })
  if (config.server.metrics) {
    const metrics = prometheusMetrics({ counters, connections: () => registry.size })
    router.add('GET', '/metrics', async (_req, res) => {
      const text = await metrics.render()
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) })
      res.end(text)
    })
  }
  for (const m of concepts) {
    for (const route of m.routes?.(api) ?? []) {
      if ('prefix' in route) router.addPrefix(route.prefix, route.handler)
      else router.add(route.method ?? '*', route.path, route.handler)
    }
  }
  const sse = sseEndpoint({
    accept,
    cors: config.server.cors,
    maxChannels: config.limits.maxSubscriptionsPerConnection,
    accepting: running,
    admit: gate,
    rate: api.rate,
  })
  // SSE (the SDK's stream and plain EventSource) and long-polling: same sessions as WebSocket.
  // A request for a session another node holds is relayed there over the engine's node bus.
  const directory = new LocalSessionDirectory(clock, engine.nodeId)
  const relay = new SessionRelay(engine.bus, clock, relayedRequests(directory), 15_000)
  nodeTopics.route(RELAY_TOPIC, relay)
  for (const [path, handler] of fallbackRoutes({
    accept,
    cors: config.server.cors,
    accepting: running,
    gate,
    rate: api.rate,
    directory,
    relay,
    nodeId: engine.nodeId,
    timers: {
      clock,
      pollHoldMs: POLL_HOLD_MS,
      lingerMs: config.server.heartbeat.timeoutMs,
      holds: new HeldPolls(clock, POLL_HOLD_MS),
      turnEnd: host.scheduler,
    },
    maxMessageBytes: config.limits.maxMessageBytes,
    plainSse: sse,
  })) {
    router.add('*', path, handler)
  }
  const mountPages = pageMounter(
    router,
    site,
    { demo: config.demo.enabled, admin: config.admin.enabled },
    { demo: input.demo?.enabled === true, admin: input.admin?.enabled === true },
  )
  // The client SDK for plain <script> tags, all transports included.
  const bundle = browserAssets()
  router.add('*', BROWSER_BUNDLE_PATH, bundle.bundle)
  router.add('*', `${BROWSER_BUNDLE_PATH}.map`, bundle.sourceMap)

  const websocket = new WebSocketEndpoint(accept, {
    // Frames a little over the limit get a TOO_LARGE error; far over it, ws closes with 1009.
    maxPayload: Math.min(config.limits.maxMessageBytes * 2 + 1024, 256 * 1024 * 1024),
  })
  const front = new FrontDoor({
    router,
    handshakeTimeoutMs: config.server.handshakeTimeoutMs,
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (!running()) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
        return
      }
      // No per-address limit and nothing forwarded: the address is read later, if anything asks
      // (the node's admission rate applies all the same).
      const admission = gate.needsAddress(req) ? gate.check(req) : undefined
      try {
        gate.hold(admission, socket)
      } catch (err) {
        const e = err as SwitchboardError
        const limit = isAdmissionRefusal(e) ? 'limits.connectsPerSecond' : 'limits.maxConnectionsPerIp'
        log.debug({ address: admission?.address }, `connection refused: ${limit} reached`)
        websocket.refuse(req, socket, head, e, CloseCode.CONNECTION_LIMIT)
        return
      }
      websocket.handleUpgrade(req, socket, head, admission?.address)
    },
  })

  const listenHttp = async (opts: ListenOptions = {}) => {
    await ready
    mountPages(false)
    const bound = await front.listen(opts.port ?? config.server.port, opts.host ?? config.server.host)
    log.info({ port: bound.port, host: bound.host }, 'switchboard listening')
    if (config.demo.enabled) log.info(`demo: ${bound.url}/`)
    if (config.admin.enabled) log.info(`admin view: ${bound.url}/admin`)
    return bound
  }

  let closing: Promise<void> | undefined
  if (config.mode === 'development' && security.policy === allowAll) {
    log.warn('development mode: anonymous clients may connect and every action is allowed (no permissions file)')
  }

  return {
    get state() {
      return lifecycle.state
    },
    config,
    log,
    nodeId: engine.nodeId,
    ready,
    listen: ((first?: ListenOptions | string, handler?: ListenHandler, listenOptions?: ServerListenOptions) => {
      if (typeof first === 'string') return listening.listen(first, handler as ListenHandler, listenOptions)
      return listenHttp(first)
    }) as SwitchboardServer['listen'],
    on: (event, listener) => hooks.events.on(event, listener),
    attach: (http, attachOptions) => {
      mountPages(true)
      front.attach(http, attachOptions)
    },
    handleRequest: (req, res) => {
      mountPages(true)
      return front.handleRequest(req, res)
    },
    accept,
    publish(channel, data, publishOptions = {}) {
      if (lifecycle.state === 'stopped') return Promise.reject(new SwitchboardError('UNAVAILABLE', 'server stopped'))
      const { id } = publishOptions
      if (id !== undefined && !isValidPublishId(id)) {
        return Promise.reject(new SwitchboardError('INVALID_MESSAGE', 'a publication id has 1-64 characters'))
      }
      return channels.service.publish(channel, data, undefined, id === undefined ? undefined : publishKey('server', id))
    },
    history: (channel, query = {}) => channels.service.history(channel, query),
    connectionCount: () => registry.size,
    revoke: (userId) => revocation.revoke(userId),
    rpc: rpc.api,
    presence: presence.api,
    records: { ...records.api, ...queries.api },
    close(closeOptions = {}) {
      closing ??= holdProcessOpen(async () => {
        // A start still waiting for the engine (Redis unreachable) is abandoned.
        if (lifecycle.state === 'starting') await engine.close?.()
        await ready.catch(() => {})
        lifecycle.to('draining')
        const windowMs = drainWindowMs(closeOptions.drain, config.server.drain.windowMs)
        log.info({ connections: registry.size, windowMs }, 'draining')
        if (windowMs !== undefined) {
          const drain = new SessionDrain(registry.list(), clock, windowMs)
          await Promise.race([drain.run(), registry.whenEmpty()])
          drain.stop()
        }
        registry.closeAll(CloseCode.SHUTDOWN, 'server shutting down; reconnect elsewhere')
        registry.stop()
        await front.close(config.server.drainTimeoutMs)
        // Names still in their grace period are let go now, so their vacated events go out.
        await occupancy.flush()
        for (const m of [...modules].reverse()) await m.close?.()
        await engine.occupancy.close()
        await engine.broker.close()
        await engine.bus.close()
        await engine.close?.()
        lifecycle.to('stopped')
        log.info('stopped')
      })
      return closing
    },
  }
}

/** What the admin view reads: small getters on the services (see admin/snapshot.ts). */
function adminSourcesOf(parts: {
  engine: Engine
  lifecycle: Lifecycle
  clock: Clock
  registry: () => SessionRegistry
  channels: ChannelsModule
  records: RecordsModule
  rpc: RpcModule
  presence: PresenceModule
  queries: QueriesModule
  enabled: boolean
}): AdminSources {
  const { channels, records, rpc, presence, queries } = parts
  const writes = new RecentWriteLog(() => parts.clock.now())
  // Only where the admin view is on: the log costs a little on every commit.
  if (parts.enabled)
    records.service.observe({
      committed: (name, version, data) => writes.committed(name, version, data),
      delivered() {},
    })
  return {
    nodeId: parts.engine.nodeId,
    live: adminLiveChannel(parts.engine.nodeId),
    state: () => parts.lifecycle.state,
    startedAt: parts.clock.now(),
    now: () => parts.clock.now(),
    sessions: () => parts.registry().list(),
    channelsOf: (s) => channels.service.subscriptionsOf(s),
    hasSubscribers: (channel) => channels.service.hasSubscribers(channel),
    recordsOf: (s) => records.service.subscriptionsOf(s),
    providedBy: (s) => rpc.service.provided(s),
    joinedBy: (s) => presence.service.stateOf(s)?.joined,
    channelStats: async (name) => {
      const h = await channels.service.history(name, { limit: Number.MAX_SAFE_INTEGER })
      return { offset: h.position.offset, history: h.publications.length }
    },
    liveNodes: () => (listsNodes(parts.engine) ? parts.engine.liveNodes() : null),
    recentWrites: () => writes.list(),
    queries: () =>
      [...queries.service.liveViews()].slice(0, 200).map((v) => ({
        collection: v.spec.collection,
        query: describeQuery(v.spec),
        subscribers: v.members.size,
        rows: v.rows.length,
      })),
  }
}

/** The engine `config.engine` names. */
function engineFor(config: SwitchboardConfig, log: Logger): Engine {
  const engine = config.engine
  if (engine.type === 'memory') return createMemoryEngine()
  return createRedisEngine({ ...engine, log: log.child({ node: engine.nodeId }) })
}

/**
 * Runs `work` with a timer holding the event loop open: otherwise, when nothing else keeps the
 * process alive, Node exits in the middle of an awaited `close()` and the caller's code after
 * it never runs.
 */
async function holdProcessOpen(work: () => Promise<void>): Promise<void> {
  const hold = setInterval(() => {}, 60_000)
  try {
    await work()
  } finally {
    clearInterval(hold)
  }
}
