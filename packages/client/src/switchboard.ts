import type { QueryOptions, StreamPosition } from '@switchboard/protocol'
import { Channels, type HistoryResult, type PublishOptions } from './channels/channels.js'
import type { PublicationHandler, SubscribeOptions, Subscription } from './channels/subscription.js'
import type { RecordDocument } from '@switchboard/protocol'
import type { RecordHandle } from './records/record-handle.js'
import { Records, type RecordsApi } from './records/records.js'
import { Connection } from './connection/connection.js'
import type { ConnectionState } from './connection/state-machine.js'
import { Emitter } from './emitter.js'
import { Listening } from './listening/listening.js'
import type { ListenHandler, Listener, ListenOptions } from './listening/listener.js'
import { Presence } from './presence/presence.js'
import type { LiveQuery } from './queries/live-query.js'
import { Queries } from './queries/queries.js'
import type { PresenceRoom } from './presence/room.js'
import { Rpc } from './rpc/rpc.js'
import { SwitchboardError } from './errors.js'
import type { NamedTransport } from './connection/attempt.js'
import { longpollTransport } from './transport/longpoll.js'
import type { TransportName } from './transport/names.js'
import { sseTransport } from './transport/sse.js'
import type {
  EventSourceConstructor,
  FetchFunction,
  TransportFactory,
  WebSocketConstructor,
} from './transport/transport.js'
import { websocketTransport } from './transport/websocket.js'

export type { TransportName }

export interface SwitchboardOptions {
  /** A JWT, or a function returning one; the function is called again for every connection. */
  token?: string | (() => Promise<string>)
  /**
   * Transports to try, in order (default: websocket, sse, longpoll). The one that worked last is
   * tried first on the next reconnect; on a fallback, WebSocket is probed again in the background.
   */
  transports?: TransportName[]
  /** A transport that has not reached the server within this is given up for the next (default 3000). */
  transportTimeoutMs?: number
  /** How often a client on a fallback transport tries WebSocket again (default 60 000: once a minute). */
  websocketProbeMs?: number
  reconnect?: { minDelayMs?: number; maxDelayMs?: number }
  /** Operations (publishes, history reads) kept while disconnected; more fail with QUEUE_FULL. */
  offlineQueueLimit?: number
  /** A WebSocket implementation, for runtimes without a global one (the Node entry passes `ws`). */
  WebSocket?: WebSocketConstructor
  /** An EventSource implementation (the Node entry passes the `eventsource` package where there is no global one). */
  EventSource?: EventSourceConstructor
  /** A fetch implementation (default: the global one). */
  fetch?: FetchFunction
  /** Replaces the transport entirely (tests, custom runtimes). */
  transport?: TransportFactory
}

export interface SwitchboardEvents extends Record<string, unknown> {
  state: ConnectionState
  error: SwitchboardError
  /** A (re)connection settled on this transport, or the client switched to it. */
  transport: TransportName
}

const VERSION = '0.1.0'

/**
 * The client. One instance holds one logical connection (reconnecting as needed) and every
 * subscription made through it.
 */
export class Switchboard extends Emitter<SwitchboardEvents> {
  private readonly connection: Connection
  private readonly channels: Channels
  private readonly recordStore: Records
  /** One-off record operations: `sb.records.get(name)`. */
  readonly records: RecordsApi
  /** RPC: `sb.rpc.call(name, args, { timeoutMs })`, `sb.rpc.provide(name, handler)`. */
  readonly rpc: Rpc
  private readonly presenceRooms: Presence
  private readonly listening: Listening
  private readonly queries: Queries

  constructor(url: string | string[], options: SwitchboardOptions = {}) {
    super()
    const urls = (Array.isArray(url) ? url : [url]).map((u) => new URL(u).toString())
    if (urls.length === 0) throw new SwitchboardError('INVALID_MESSAGE', 'at least one server URL is required')
    this.connection = new Connection({
      urls,
      token: options.token,
      transports: resolveTransports(options),
      transportTimeoutMs: options.transportTimeoutMs ?? 3000,
      probeIntervalMs: options.websocketProbeMs ?? 60_000,
      minDelayMs: options.reconnect?.minDelayMs ?? 250,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 20_000,
      offlineQueueLimit: options.offlineQueueLimit ?? 1000,
      agent: `switchboard-js/${VERSION}`,
    })
    this.connection.on('state', (s) => this.emit('state', s))
    this.connection.on('error', (e) => this.emit('error', e))
    this.connection.on('transport', (t) => this.emit('transport', t))
    this.channels = new Channels(this.connection)
    this.recordStore = new Records(this.connection)
    this.records = this.recordStore
    this.rpc = new Rpc(this.connection)
    this.presenceRooms = new Presence(this.connection)
    this.listening = new Listening(this.connection)
    this.queries = new Queries(this.connection)
  }

  get state(): ConnectionState {
    return this.connection.state
  }

  /** `{ id, ...claims }` as the server authenticated it, or null (anonymous or not connected). */
  get user(): Record<string, unknown> | null {
    return this.connection.user
  }

  /** The transport in use now (`websocket`, `sse`, `longpoll`), or null when not connected. */
  get transport(): TransportName | null {
    return this.connection.transport
  }

  /** This connection's id on the server (changes with every reconnect). */
  get clientId(): string | null {
    return this.connection.clientId
  }

  /**
   * Resolves when connected and authenticated. Waits through network failures. Rejects when the
   * server refuses: for good (AUTH_FAILED; the client stops, state 'closed') or for now (a
   * limit's code such as RATE_LIMITED; the client keeps retrying, 'state' says when it is in).
   */
  connect(): Promise<void> {
    return this.connection.connect()
  }

  close(): Promise<void> {
    return this.connection.close()
  }

  subscribe(channel: string, handler: PublicationHandler, options?: SubscribeOptions): Subscription {
    return this.channels.subscribe(channel, handler, options)
  }

  /**
   * Resolves on the server's ack, once the publication is in the channel's history. Sent while
   * disconnected, it waits in the offline queue; when the connection drops before the ack, it
   * is sent again after the reconnect, with the same id, and the server publishes it once.
   */
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<{ offset: number; epoch: string }> {
    return this.channels.publish(channel, data, options)
  }

  history(channel: string, options?: { since?: StreamPosition; limit?: number }): Promise<HistoryResult> {
    return this.channels.history(channel, options)
  }

  /** A live record: handles on one name share one local copy and one subscription. */
  record<T extends RecordDocument = RecordDocument>(name: string): RecordHandle<T> {
    return this.recordStore.open<T>(name)
  }

  /**
   * Be told when a channel (or record, `{ kind: 'record' }`) matching `pattern` gains its first
   * subscriber and this listener is the one chosen for it (`active: true`), and when it loses the
   * last one (`active: false`). Needs the `listen` permission rule.
   */
  listen(pattern: string, handler: ListenHandler, options?: ListenOptions): Listener {
    return this.listening.listen(pattern, handler, options)
  }

  /**
   * A live query over a collection: `where` conditions (ANDed), `orderBy` keys (ties by name),
   * `limit`. `rows` stays current; restored after reconnects.
   */
  query<T extends RecordDocument = RecordDocument>(collection: string, options?: QueryOptions): LiveQuery<T> {
    return this.queries.query<T>(collection, options)
  }

  /** Presence of a channel, or the global room (`sb.presence()`); the same handle per name. */
  presence(channel?: string): PresenceRoom {
    return this.presenceRooms.room(channel)
  }
}

const ALL: TransportName[] = ['websocket', 'sse', 'longpoll']

/**
 * The transports asked for, in order, that this runtime can run: WebSocket needs a WebSocket
 * implementation, SSE an EventSource and fetch, long-polling fetch (React Native has no
 * EventSource: it falls back straight to long-polling).
 */
function resolveTransports(options: SwitchboardOptions): NamedTransport[] {
  const names = options.transports ?? ALL
  if (options.transport) return [{ name: names[0] ?? 'websocket', factory: options.transport }]
  const g = globalThis as { WebSocket?: WebSocketConstructor; EventSource?: EventSourceConstructor }
  const WebSocketImpl = options.WebSocket ?? g.WebSocket
  const EventSourceImpl = options.EventSource ?? g.EventSource
  const fetchImpl = options.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined)
  const transports: NamedTransport[] = []
  for (const name of names) {
    const factory =
      name === 'websocket'
        ? WebSocketImpl && websocketTransport(WebSocketImpl)
        : name === 'sse'
          ? EventSourceImpl && fetchImpl && sseTransport(fetchImpl, EventSourceImpl)
          : fetchImpl && longpollTransport(fetchImpl)
    if (factory) transports.push({ name, factory })
  }
  if (transports.length === 0) {
    throw new SwitchboardError('INVALID_MESSAGE', 'no transport available (pass WebSocket or fetch)')
  }
  return transports
}
