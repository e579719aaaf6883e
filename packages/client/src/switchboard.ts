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
import type { TransportFactory, WebSocketConstructor } from './transport/transport.js'
import { websocketTransport } from './transport/websocket.js'

export type TransportName = 'websocket' | 'sse' | 'longpoll'

export interface SwitchboardOptions {
  /** A JWT, or a function returning one; the function is called again for every connection. */
  token?: string | (() => Promise<string>)
  /** Transports to try, in order. This version ships the WebSocket transport. */
  transports?: TransportName[]
  reconnect?: { minDelayMs?: number; maxDelayMs?: number }
  /** Operations (publishes, history reads) kept while disconnected; more fail with QUEUE_FULL. */
  offlineQueueLimit?: number
  /** A WebSocket implementation, for runtimes without a global one (the Node entry passes `ws`). */
  WebSocket?: WebSocketConstructor
  /** Replaces the transport entirely (tests, custom runtimes). */
  transport?: TransportFactory
}

export interface SwitchboardEvents extends Record<string, unknown> {
  state: ConnectionState
  error: SwitchboardError
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
      transport: options.transport ?? websocketTransport(resolveWebSocket(options)),
      minDelayMs: options.reconnect?.minDelayMs ?? 250,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 20_000,
      offlineQueueLimit: options.offlineQueueLimit ?? 1000,
      agent: `switchboard-js/${VERSION}`,
    })
    this.connection.on('state', (s) => this.emit('state', s))
    this.connection.on('error', (e) => this.emit('error', e))
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

function resolveWebSocket(options: SwitchboardOptions): WebSocketConstructor {
  if (options.transports && !options.transports.includes('websocket')) {
    throw new SwitchboardError('INVALID_MESSAGE', 'this client version supports the websocket transport only')
  }
  const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (!impl) {
    throw new SwitchboardError(
      'INVALID_MESSAGE',
      'no WebSocket implementation: pass options.WebSocket (the Node entry does this)',
    )
  }
  return impl
}
