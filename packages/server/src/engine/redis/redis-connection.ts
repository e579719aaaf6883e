import { createClient, createCluster, type RedisArgument } from 'redis'
import type { Logger } from '../../log.js'
import { LuaScript } from './lua-script.js'
import { engineError } from './redis-errors.js'

export type RedisReply = string | number | null | RedisReply[]
export type MessageListener = (message: string, channel: string) => void

export interface RedisConnectionOptions {
  /** One Redis server (or a proxy in front of several). */
  url?: string
  /** Redis Cluster: seed nodes. */
  cluster?: string[]
  log: Logger
}

type Client = ReturnType<typeof createClient>
type Cluster = ReturnType<typeof createCluster>

/** Reconnects after 100 ms, doubling up to 2 s, with jitter so nodes do not reconnect in step. */
function backoff(retries: number): number {
  return Math.min(100 * 2 ** retries, 2000) + Math.floor(Math.random() * 100)
}

const SOCKET = { connectTimeout: 5000, reconnectStrategy: backoff }

/**
 * The engine's connections to Redis, the same surface for one server and for Redis Cluster:
 * commands (routed by key on a cluster), Lua scripts by SHA, and pub/sub — classic on one
 * server, sharded (SSUBSCRIBE/SPUBLISH, delivered by the shard that owns the channel's slot)
 * on a cluster. Commands are never queued while disconnected: they fail at once with a
 * retryable UNAVAILABLE, so nothing is acknowledged that Redis did not take.
 *
 * Health: `ready` while every connection is up; `onDisrupted` listeners run when a connection
 * that carries subscriptions drops (messages published meanwhile are gone for this node).
 */
export class RedisConnection {
  readonly clustered: boolean
  /** The publish command for stream and node channels. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH'
  private readonly client: Client | undefined
  private readonly subscriber: Client | undefined
  private readonly cluster: Cluster | undefined
  private readonly disruptedListeners: (() => void)[] = []
  private readonly restoredListeners: (() => void)[] = []
  /**
   * Unsubscribes that failed while disconnected: the client keeps the listener and subscribes
   * again on reconnect, so they are retried once it is back.
   */
  private readonly unsubscribeLater = new Map<string, () => Promise<void>>()
  private opened = false
  private closed = false
  /** Ends a wait between attempts to reach a cluster at start. */
  private stopWaiting: (() => void) | undefined
  private lastErrorLog = 0

  constructor(private readonly options: RedisConnectionOptions) {
    if (options.cluster && options.cluster.length > 0) {
      this.clustered = true
      this.publishCommand = 'SPUBLISH'
      this.cluster = createCluster({
        rootNodes: options.cluster.map((url) => ({ url })),
        defaults: { disableOfflineQueue: true, socket: SOCKET },
      })
      this.cluster.on('error', this.onError)
      this.cluster.on('node-error', this.onError)
      this.cluster.on('node-reconnecting', this.onDisconnect)
      // Emitted inside the node client's own 'ready', before anything else is sent to it.
      this.cluster.on('node-ready', () => {
        for (const master of this.cluster!.masters) if (master.client?.isReady) this.loadScripts(master.client)
        this.retryUnsubscribes()
        this.restored()
      })
    } else {
      if (!options.url) throw new Error('engine.redis needs url or cluster')
      this.clustered = false
      this.publishCommand = 'PUBLISH'
      this.client = createClient({ url: options.url, disableOfflineQueue: true, socket: SOCKET })
      this.subscriber = this.client.duplicate()
      this.client.on('error', this.onError)
      this.client.on('ready', () => this.loadScripts(this.client!))
      this.subscriber.on('error', this.onError)
      this.subscriber.on('reconnecting', this.onDisconnect)
      this.subscriber.on('ready', () => {
        this.retryUnsubscribes()
        this.restored()
      })
    }
  }

  /**
   * Connects, waiting (with backoff) while Redis is unreachable, so nodes may start before it;
   * `close()` ends the wait with an error.
   */
  async open(): Promise<void> {
    if (this.opened) return
    this.opened = true
    try {
      if (!this.cluster) {
        await Promise.all([this.client!.connect(), this.subscriber!.connect()])
        return
      }
      // A cluster client gives up when no seed node answers: try again until one does.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.cluster.connect()
          return
        } catch (err) {
          if (this.closed) throw err
          this.onError(err)
          await new Promise<void>((resolve) => {
            this.stopWaiting = resolve
            setTimeout(resolve, backoff(attempt))
          })
          if (this.closed) throw err
        }
      }
    } catch (err) {
      throw engineError(err)
    }
  }

  /** Every connection is up (on a cluster: to every master, and every pub/sub connection). */
  get ready(): boolean {
    if (this.closed || !this.opened) return false
    if (this.client) return this.client.isReady && this.subscriber!.isReady
    const cluster = this.cluster!
    if (!cluster.isReady) return false
    for (const master of cluster.masters) {
      if (master.client && !master.client.isReady) return false
      if (master.pubSub?.client && !master.pubSub.client.isReady) return false
    }
    const pubSub = cluster.pubSubNode?.client
    return !pubSub || pubSub.isReady
  }

  onDisrupted(listener: () => void): void {
    this.disruptedListeners.push(listener)
  }

  /** `listener` runs each time a connection that carries subscriptions is back after a drop. */
  onRestored(listener: () => void): void {
    this.restoredListeners.push(listener)
  }

  /** Runs a command; on a cluster it goes to the shard that owns `key` (any shard when undefined). */
  async command<T extends RedisReply = RedisReply>(key: string | undefined, args: RedisArgument[]): Promise<T> {
    try {
      if (this.cluster) return (await this.cluster.sendCommand(key, false, args)) as T
      return (await this.client!.sendCommand(args)) as T
    } catch (err) {
      throw engineError(err)
    }
  }

  /** Runs a script by SHA, sending its source once per server that does not have it yet. */
  async script<T extends RedisReply = RedisReply>(
    script: LuaScript,
    keys: string[],
    args: (string | number)[],
  ): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)]
    try {
      return await this.command<T>(keys[0], ['EVALSHA', script.sha, ...tail])
    } catch (err) {
      if (!isNoScript(err)) throw err
      return this.command<T>(keys[0], ['EVAL', script.source, ...tail])
    }
  }

  /** Subscribes to a stream or node channel (sharded on a cluster). Resolves once Redis confirmed. */
  async subscribe(channel: string, listener: MessageListener): Promise<void> {
    this.unsubscribeLater.delete(`c ${channel}`)
    try {
      if (this.cluster) await this.cluster.sSubscribe(channel, listener)
      else await this.subscriber!.subscribe(channel, listener)
    } catch (err) {
      throw engineError(err)
    }
  }

  async unsubscribe(channel: string, listener: MessageListener): Promise<void> {
    // A closed node-redis client never settles an unsubscribe; there is nothing to leave anyway.
    if (this.closed) return
    try {
      if (this.cluster) await this.cluster.sUnsubscribe(channel, listener)
      else await this.subscriber!.unsubscribe(channel, listener)
    } catch (err) {
      this.unsubscribeLater.set(`c ${channel}`, () => this.unsubscribe(channel, listener))
      throw engineError(err)
    }
  }

  /** Classic PSUBSCRIBE (on a cluster: it sees classic PUBLISH from every shard, never SPUBLISH). */
  async pSubscribe(glob: string, listener: MessageListener): Promise<void> {
    this.unsubscribeLater.delete(`p ${glob}`)
    try {
      if (this.cluster) await this.cluster.pSubscribe(glob, listener)
      else await this.subscriber!.pSubscribe(glob, listener)
    } catch (err) {
      throw engineError(err)
    }
  }

  async pUnsubscribe(glob: string, listener: MessageListener): Promise<void> {
    if (this.closed) return
    try {
      if (this.cluster) await this.cluster.pUnsubscribe(glob, listener)
      else await this.subscriber!.pUnsubscribe(glob, listener)
    } catch (err) {
      this.unsubscribeLater.set(`p ${glob}`, () => this.pUnsubscribe(glob, listener))
      throw engineError(err)
    }
  }

  /** How many connections listen on `channel` (sharded channels on a cluster: asked of the shard that owns it). */
  async listeners(channel: string): Promise<number> {
    try {
      const reply = this.cluster
        ? ((await (
            await this.cluster.getNodeClientForKey(channel)
          ).sendCommand(['PUBSUB', 'SHARDNUMSUB', channel])) as RedisReply[])
        : ((await this.client!.sendCommand(['PUBSUB', 'NUMSUB', channel])) as RedisReply[])
      return Number(reply[1] ?? 0)
    } catch (err) {
      throw engineError(err)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.stopWaiting?.()
    if (!this.opened) return
    const quit = async (c: { close(): Promise<void>; destroy(): void; isOpen: boolean }) => {
      if (!c.isOpen) return
      // Closing waits for replies in flight; a server that is gone would keep it waiting.
      await Promise.race([c.close(), new Promise((r) => setTimeout(r, 1000).unref())]).catch(() => {})
      if (c.isOpen) c.destroy()
    }
    if (this.cluster) await quit(this.cluster)
    else await Promise.all([quit(this.client!), quit(this.subscriber!)])
  }

  private restored(): void {
    if (!this.opened || this.closed) return
    for (const listener of this.restoredListeners) listener()
  }

  private retryUnsubscribes(): void {
    const pending = [...this.unsubscribeLater.values()]
    this.unsubscribeLater.clear()
    for (const unsubscribe of pending) unsubscribe().catch(() => {})
  }

  /** Queued first on a connection that just became ready (see LuaScript). */
  private loadScripts(client: { sendCommand(args: RedisArgument[]): Promise<unknown> }): void {
    for (const script of LuaScript.all) {
      client.sendCommand(['SCRIPT', 'LOAD', script.source]).catch((err: unknown) => this.onError(err))
    }
  }

  private readonly onError = (err: unknown): void => {
    // node-redis reports every failed reconnect attempt; one line every few seconds is enough.
    const now = Date.now()
    if (this.closed || now - this.lastErrorLog < 5000) return
    this.lastErrorLog = now
    this.options.log.warn({ err }, 'redis connection error (reconnecting)')
  }

  private readonly onDisconnect = (): void => {
    if (this.closed) return
    for (const listener of this.disruptedListeners) listener()
  }
}

function isNoScript(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause ?? err
  return cause instanceof Error && cause.message.startsWith('NOSCRIPT')
}
