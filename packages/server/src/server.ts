// Several engineers edit this tree at once: read CONTRIBUTING.md first (small targeted edits to shared
// files, commit only your own files, never `git add -A`/stash/reset, one `npm install` at a time).
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { CloseCode, type StreamPosition } from '@switchboard/protocol'
import { setupSecurity } from './auth/setup.js'
import type { Authenticator } from './auth/authenticator.js'
import type { Broker, BrokerHandler, HistoryResult } from './engine/broker.js'
import { ChannelOptionsResolver } from './channels/channel-options.js'
import { ChannelService } from './channels/channel-service.js'
import { channelHandlers } from './channels/handlers.js'
import { SchemaRegistry } from './data-schemas/schema-registry.js'
import { recordHandlers } from './records/handlers.js'
import { openRecordStore } from './records/open-store.js'
import { RECORD_STREAM_PREFIX, RecordService } from './records/record-service.js'
import { serverRecords, type ServerRecords } from './records/server-records.js'
import { WritePlanner } from './records/write-plan.js'
import type { RecordStore } from '@switchboard/storage'
import { MemoryBroker } from './engine/memory/memory-broker.js'
import { resolveConfig } from './config/resolve.js'
import type { SwitchboardConfig, SwitchboardConfigInput } from './config/types.js'
import { SwitchboardError } from './errors.js'
import { sendError, sendJson, Router } from './http/router.js'
import type { ApiDeps } from './http/api-route.js'
import { RequestsPerIp } from './limits/requests-per-ip.js'
import { countingDispatch, ServerCounters } from './metrics/counters.js'
import { prometheusMetrics } from './metrics/prometheus.js'
import { sseEndpoint, SSE_PATH } from './transports/sse/sse-endpoint.js'
import { CHANNELS_API_PREFIX, historyApi, publishApi, PUBLISH_API_PATH } from './channels/http-api.js'
import { recordsApi, RECORDS_API_PREFIX } from './records/http-api.js'
import { presenceApi, PRESENCE_API_PATH } from './presence/http-api.js'
import { rpcApi, RPC_API_PREFIX } from './rpc/http-api.js'
import { Lifecycle, type ServerState } from './lifecycle.js'
import { ConnectionsPerIp } from './limits/connections-per-ip.js'
import { createLogger, type Logger } from './log.js'
import { allowAll, type AccessPolicy } from './permissions/access-policy.js'
import { dispatcher, type HandlerMap } from './wire/dispatch.js'
import type { Session } from './session/session.js'
import { FlushScheduler } from './session/flush-scheduler.js'
import type { SessionHost } from './session/session-host.js'
import { SessionRegistry } from './session/session-registry.js'
import { sessionHandlers } from './session/handlers.js'
import { MemoryRpcRouter } from './engine/memory/memory-rpc-router.js'
import { rpcHandlers, rpcRecheck } from './rpc/handlers.js'
import type { RpcRouter } from './engine/rpc-router.js'
import { RpcService } from './rpc/rpc-service.js'
import { serverRpc, type ServerRpc } from './rpc/server-api.js'
import { MemoryPresenceStore } from './engine/memory/memory-presence-store.js'
import { presenceHandlers, presenceRecheck } from './presence/handlers.js'
import type { PresenceStore } from './engine/presence-store.js'
import { PresenceService } from './presence/presence-service.js'
import { serverPresence, type ServerPresence } from './presence/server-api.js'
import type { Transport, TransportSink } from './transports/transport.js'
import { WebSocketEndpoint } from './transports/websocket/websocket-endpoint.js'

/** Pluggable parts; each defaults to the single-node implementation. */
export interface ServerOptions {
  logger?: Logger
  broker?: Broker
  /** RPC registry and call routing across nodes (default: single-node memory router). */
  rpcRouter?: RpcRouter
  presenceStore?: PresenceStore
  /** Record storage (default: opened from `config.storage`; closed by `close()`). */
  store?: RecordStore
  authenticator?: Authenticator
  policy?: AccessPolicy
}

export interface ListenOptions {
  port?: number
  host?: string
}

export interface SwitchboardServer {
  readonly state: ServerState
  readonly config: SwitchboardConfig
  readonly log: Logger
  /** Resolves once the engine is up (rejects if it could not start). */
  readonly ready: Promise<void>
  /** Runs standalone on its own HTTP server. */
  listen(options?: ListenOptions): Promise<{ port: number; host: string; url: string }>
  /** Embeds into an existing Node http(s) server: handles WebSocket upgrades on `/ws`. */
  attach(server: HttpServer | HttpsServer): void
  /** Handles Switchboard's HTTP routes; returns false for paths it does not own. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean
  /** Connects any transport (SSE, long-polling, in-memory) to a new session. */
  accept(transport: Transport): TransportSink
  publish(channel: string, data: unknown): Promise<StreamPosition>
  history(channel: string, query?: { since?: StreamPosition; limit?: number }): Promise<HistoryResult>
  /** In-process RPC handlers (`server.rpc.handle`) and server-side calls (`server.rpc.call`). */
  readonly rpc: ServerRpc
  /** Presence views (`server.presence.members(channel)`). */
  readonly presence: ServerPresence
  /** Records for the embedding app: get/set/update/delete, notifying subscribers like client writes. */
  readonly records: ServerRecords
  /** Number of open connections. */
  connectionCount(): number
  /** Drains: stops accepting, asks every client to reconnect elsewhere, then stops. */
  close(): Promise<void>
}

export function createServer(input: SwitchboardConfigInput = {}, options: ServerOptions = {}): SwitchboardServer {
  const config = resolveConfig(input)
  const log = options.logger ?? createLogger(config.log.level)
  const lifecycle = new Lifecycle()
  if (config.engine.type !== 'memory' && !options.broker) {
    // Never fall back to a single-node engine silently: nodes would not see each other.
    throw new Error(
      `engine.type "${config.engine.type}" is not available in this version: use { type: memory } (single node)`,
    )
  }
  const broker = options.broker ?? new MemoryBroker()
  // Auth and permission rules from config (or the embedder's own); refuses unsafe production setups.
  const { authenticator, policy } = setupSecurity(input, config, options, log)
  const scheduler = new FlushScheduler()
  const channels = new ChannelService(broker, new ChannelOptionsResolver(config.channels), config.limits, log, policy)
  const rpcRouter = options.rpcRouter ?? new MemoryRpcRouter()
  const rpc = new RpcService(rpcRouter, config.rpc, log)
  const presenceStore = options.presenceStore ?? new MemoryPresenceStore()
  const presence = new PresenceService(presenceStore, config.presence, log)
  const schemas = new SchemaRegistry(config.schemas)
  const storeOpening = options.store ? Promise.resolve(options.store) : openRecordStore(config.storage)
  storeOpening.catch(() => {}) // reported through `ready`
  const records = new RecordService({
    store: storeOpening,
    broker,
    policy,
    planner: new WritePlanner(policy, schemas, config.limits),
    limits: config.limits,
    log,
  })
  // Internal `$records/…` streams carry record changes; every other stream is a user channel.
  const counters = new ServerCounters()
  const brokerHandler: BrokerHandler = {
    onPublication: (p) => {
      if (p.channel.startsWith(RECORD_STREAM_PREFIX)) {
        counters.recordChanges++
        records.onPublication(p)
      } else {
        counters.publications++
        channels.onPublication(p)
      }
    },
  }
  /**
   * After a token refresh replaced `session.user` (same user id, possibly other claims): each
   * concept re-checks what the session holds and ends what is no longer allowed. Push yours here.
   */
  const onUserChanged: ((session: Session) => void)[] = [(session) => channels.recheck(session)]
  onUserChanged.push((session) => records.recheck(session))
  onUserChanged.push(rpcRecheck(rpc, policy), presenceRecheck(presence, policy))

  // Each concept contributes its wire handlers (all message types must be covered: a missing
  // one is a compile error) and its cleanup when a session ends.
  const handlers: HandlerMap = {
    ...sessionHandlers({ authenticator, onUserChanged }),
    ...channelHandlers(channels, policy, config.limits, schemas),
    ...recordHandlers(records, config.limits),
    ...rpcHandlers(rpc, policy, config.limits),
    ...presenceHandlers(presence, policy, config.limits),
  }
  const onSessionClosed: ((session: Session) => void)[] = [(session) => channels.removeSession(session)]
  /** Stopped in reverse order on close, after sessions are gone. */
  const services: { close(): Promise<void> }[] = [rpcRouter, rpc, presenceStore, presence]
  onSessionClosed.push(
    (session) => rpc.removeSession(session),
    (session) => presence.removeSession(session),
  )
  onSessionClosed.push((session) => records.removeSession(session))
  services.push(records)

  const host: SessionHost = {
    config,
    log,
    scheduler,
    counters,
    authenticator,
    dispatch: countingDispatch(counters, dispatcher(handlers)),
    sessionClosed(session) {
      registry.delete(session)
      for (const cleanup of onSessionClosed) cleanup(session)
    },
    now: Date.now,
  }
  const registry = new SessionRegistry(host)
  const accept = (transport: Transport): TransportSink => registry.create(transport)
  const websocket = new WebSocketEndpoint(accept, {
    // Frames a little over the limit get a TOO_LARGE error; far over it, ws closes with 1009.
    maxPayload: Math.min(config.limits.maxMessageBytes * 2 + 1024, 256 * 1024 * 1024),
  })

  const ready = Promise.all([broker.start(brokerHandler), rpcRouter.start(rpc), storeOpening]).then(() => {
    lifecycle.to('running')
  })
  ready.catch((err: unknown) => log.error({ err }, 'engine failed to start'))

  const router = new Router()
    .add('GET', '/healthz', (_req, res) => {
      sendJson(res, lifecycle.state === 'stopped' ? 503 : 200, { status: lifecycle.state })
    })
    .add('GET', '/readyz', (_req, res) => {
      sendJson(res, lifecycle.state === 'running' ? 200 : 503, { status: lifecycle.state })
    })
  // The HTTP API (SPEC §3): the same auth, rules and services as connections.
  const api: ApiDeps = {
    authenticator,
    cors: config.server.cors,
    maxBodyBytes: config.limits.maxMessageBytes,
    accepting: () => lifecycle.state === 'running',
    rate: new RequestsPerIp(config.limits.messagesPerSecond, config.limits.messagesBurst),
    counters,
  }
  if (config.server.metrics) {
    const metrics = prometheusMetrics({ counters, connections: () => registry.size })
    router.add('GET', '/metrics', async (_req, res) => {
      const text = await metrics.render()
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) })
      res.end(text)
    })
  }
  router
    .add('*', PUBLISH_API_PATH, publishApi(api, channels, { policy, limits: config.limits, schemas }))
    .addPrefix(CHANNELS_API_PREFIX, historyApi(api, channels, policy))
    .addPrefix(RECORDS_API_PREFIX, recordsApi(api, records, config.limits))
    .addPrefix(RPC_API_PREFIX, rpcApi(api, rpc, policy, config.limits))
    .add('*', PRESENCE_API_PATH, presenceApi(api, presence, policy))
    .addPrefix(`${PRESENCE_API_PATH}/`, presenceApi(api, presence, policy))

  const perIp = new ConnectionsPerIp(config.limits.maxConnectionsPerIp)
  router.add(
    '*',
    SSE_PATH,
    sseEndpoint({
      accept,
      cors: config.server.cors,
      maxChannels: config.limits.maxSubscriptionsPerConnection,
      accepting: () => lifecycle.state === 'running',
      perIp,
      rate: api.rate,
    }),
  )
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, standalone: boolean): void => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/ws') {
      if (standalone) socket.destroy()
      return
    }
    if (lifecycle.state !== 'running') {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }
    const address = req.socket.remoteAddress ?? 'unknown'
    if (!perIp.tryAcquire(address)) {
      log.debug({ address }, 'connection refused: limits.maxConnectionsPerIp reached')
      socket.end('HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }
    socket.once('close', () => perIp.release(address))
    websocket.handleUpgrade(req, socket, head, address)
  }

  let own: HttpServer | undefined
  let closing: Promise<void> | undefined

  if (config.mode === 'development' && policy === allowAll) {
    log.warn('development mode: anonymous clients may connect and every action is allowed (no permissions file)')
  }

  const server: SwitchboardServer = {
    get state() {
      return lifecycle.state
    },
    config,
    log,
    ready,
    async listen(opts = {}) {
      await ready
      // Slowloris: a connection that has not sent complete headers within the handshake timeout is cut.
      const headersTimeout = config.server.handshakeTimeoutMs
      const httpOptions = {
        headersTimeout,
        requestTimeout: Math.max(headersTimeout, 30_000),
        connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
      }
      const http = createHttpServer(httpOptions, (req, res) => {
        if (!router.handle(req, res)) sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${req.url}`)
      })
      http.on('upgrade', (req, socket, head) => onUpgrade(req, socket, head, true))
      own = http
      const port = opts.port ?? config.server.port
      const hostName = opts.host ?? config.server.host
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject)
        http.listen(port, hostName, () => {
          http.off('error', reject)
          resolve()
        })
      })
      const address = http.address() as AddressInfo
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
      log.info({ port: address.port, host: address.address }, 'switchboard listening')
      return { port: address.port, host: address.address, url: `http://${shownHost}:${address.port}` }
    },
    attach(http) {
      http.on('upgrade', (req, socket, head) => onUpgrade(req, socket, head, false))
    },
    handleRequest: (req, res) => router.handle(req, res),
    accept,
    publish(channel, data) {
      if (lifecycle.state === 'stopped') return Promise.reject(new SwitchboardError('UNAVAILABLE', 'server stopped'))
      return channels.publish(channel, data)
    },
    history: (channel, query = {}) => channels.history(channel, query),
    connectionCount: () => registry.size,
    rpc: serverRpc(rpc),
    presence: serverPresence(presence),
    records: serverRecords(records, config.limits),
    close() {
      closing ??= (async () => {
        await ready.catch(() => {})
        lifecycle.to('draining')
        log.info({ connections: registry.size }, 'draining')
        registry.closeAll(CloseCode.SHUTDOWN, 'server shutting down; reconnect elsewhere')
        registry.stop()
        if (own) await closeHttp(own, config.server.drainTimeoutMs)
        for (const service of services.reverse()) await service.close()
        await broker.close()
        lifecycle.to('stopped')
        log.info('stopped')
      })()
      return closing
    },
  }
  return server
}

/** Waits for connections (including upgraded sockets) to end, then cuts what is left. */
async function closeHttp(http: HttpServer, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => http.close(() => resolve()))
  http.closeIdleConnections()
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      http.closeAllConnections()
      resolve()
    }, timeoutMs)
  })
  await Promise.race([closed, timeout])
  clearTimeout(timer)
}
