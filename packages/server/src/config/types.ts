/**
 * Configuration as users write it (YAML, env vars or `createServer(input)`) and as the server
 * uses it after `resolveConfig` (units turned into numbers, defaults filled in).
 */

/** A byte size: a number of bytes or a string such as `512KiB`, `1MiB`, `4MB`. */
export type SizeInput = number | string
/** A duration: milliseconds or a string such as `500ms`, `10s`, `10m`, `1h`. */
export type DurationInput = number | string

export interface HistoryInput {
  size?: number
  ttl?: DurationInput
}

/** How client JWTs are verified: one of `secret` (HS*), `publicKey` (PEM), `jwksFile` or `jwksUrl`. */
export interface JwtInput {
  secret?: string
  publicKey?: string
  jwksFile?: string
  /** A JWKS served over HTTP(S) (an identity provider's `jwks_uri`), fetched and cached. */
  jwksUrl?: string
  /** How long fetched keys are used before the set is fetched again; default 10m. */
  jwksCacheTtl?: DurationInput
  /** A token whose key is not in the cached set fetches the set again at most this often; default 30s. */
  jwksCooldown?: DurationInput
  issuer?: string | string[]
  audience?: string | string[]
  algorithms?: string[]
  /** Leeway for `exp`/`nbf` against clock skew; default 30s. */
  clockTolerance?: DurationInput
}

/** `auth.jwt` after resolution: durations in milliseconds. */
export interface JwtConfig extends Omit<JwtInput, 'clockTolerance' | 'jwksCacheTtl' | 'jwksCooldown'> {
  clockToleranceMs: number
  jwksCacheTtlMs: number
  jwksCooldownMs: number
}

export interface WebhookConfig {
  url: string
  timeoutMs: number
  cacheTtlMs: number
  /** The longest a session opened with a webhook answer lives before it is checked again; 0 = no limit. */
  sessionTtlMs: number
}

export interface SwitchboardConfigInput {
  server?: {
    host?: string
    port?: number
    cors?: string[]
    heartbeat?: { intervalMs?: number; timeoutMs?: number }
    /** How long a new connection may take to send its hello. */
    handshakeTimeoutMs?: number
    /** How long `close()` waits for sessions to leave before cutting them. */
    drainTimeoutMs?: number
    /**
     * A drain (SIGTERM, `close({ drain: true })`) tells the clients to reconnect elsewhere, each at
     * its own moment spread over `windowMs`.
     */
    drain?: { windowMs?: number }
    /** Serve Prometheus metrics at `GET /metrics` (default true). */
    metrics?: boolean
    /**
     * Reverse proxies whose `X-Forwarded-For` is believed (per-address limits, logs): addresses,
     * CIDR blocks and the presets `loopback`, `private`, `linklocal`. Default: loopback + private.
     */
    trustProxy?: string[]
  }
  auth?: {
    anonymous?: boolean
    jwt?: JwtInput
    /** Optional: the server POSTs credentials here and gets back `{ userId, claims }`. */
    webhook?: { url: string; timeoutMs?: number; cacheTtl?: DurationInput; sessionTtl?: DurationInput }
    /** Keys for the HTTP API from trusted backends (bypass permission rules). */
    apiKeys?: string[]
  }
  /** Path of the permissions file (relative paths in a config file are relative to that file). */
  permissions?: string
  storage?:
    | { type: 'memory' }
    | { type: 'sqlite'; path?: string; synchronous?: 'normal' | 'full' }
    | { type: 'postgres'; url: string }
  engine?: { type: 'memory' } | RedisEngineInput
  /** Per-channel-pattern options; the most specific matching pattern wins. */
  channels?: Record<string, { history?: HistoryInput }>
  schemas?: Record<string, string>
  limits?: {
    maxMessageBytes?: SizeInput
    maxSubscriptionsPerConnection?: number
    messagesPerSecond?: number
    messagesBurst?: number
    maxBufferedBytes?: SizeInput
    maxJsonDepth?: number
    /** Most operations (increment + push + unset paths) in one record update. */
    maxUpdateOps?: number
    /** WebSocket connections one IP address (IPv6: one /64) may hold; 0 = unlimited. */
    maxConnectionsPerIp?: number
    /** The largest (and default) `limit` of a query. */
    maxQueryResults?: number
    /** Live queries one connection may hold open. */
    maxQueriesPerConnection?: number
    /** Where conditions plus orderBy keys in one query. */
    maxQueryClauses?: number
    /** New connections (and handshakes) this node admits per second, from all addresses; 0 = unlimited. */
    connectsPerSecond?: number
  }
  /** Per collection: indexes for queries, each a list of record paths (created at start). */
  collections?: Record<string, { indexes?: string[][] }>
  log?: { level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' }
  /** RPC: the timeout of calls that give none, and the most a caller may ask for (ms). */
  rpc?: { defaultTimeoutMs?: number; maxTimeoutMs?: number }
  /** Presence: the batch window of member diffs (ms), and rooms whose watchers only get counts. */
  presence?: { batchMs?: number; countsOnly?: string[] }
  /**
   * Occupancy and connection events POSTed to the app's backend (and given to `server.on`);
   * `graceMs` is how long a name stays occupied after its last subscriber left.
   */
  hooks?: {
    url?: string
    /** HMAC-SHA256 key of the signature header; required with `url`. */
    secret?: string
    events?: ('occupied' | 'vacated' | 'connect' | 'disconnect')[]
    graceMs?: number
    timeoutMs?: number
    batchMs?: number
    maxBatch?: number
    maxQueue?: number
    maxAttempts?: number
    retryDelayMs?: number
    maxRetryDelayMs?: number
  }
  /** The live admin view at `/admin` (its data needs an API key or a JWT with the `admin` role). Default: on in development mode. */
  admin?: { enabled?: boolean }
  /** The demo app at `/`. Default: on in development mode, off in production. */
  demo?: { enabled?: boolean }
  /** `production` refuses unsafe defaults; set by NODE_ENV=production or `--production`. */
  mode?: 'development' | 'production'
}

export interface HooksConfig {
  url: string | null
  secret: string | null
  events: ('occupied' | 'vacated' | 'connect' | 'disconnect')[]
  graceMs: number
  timeoutMs: number
  batchMs: number
  maxBatch: number
  maxQueue: number
  maxAttempts: number
  retryDelayMs: number
  maxRetryDelayMs: number
}

export interface ChannelOptions {
  history: { size: number; ttlMs: number }
}

export interface SwitchboardConfig {
  server: {
    host: string
    port: number
    cors: string[]
    heartbeat: { intervalMs: number; timeoutMs: number }
    handshakeTimeoutMs: number
    drainTimeoutMs: number
    drain: { windowMs: number }
    metrics: boolean
    trustProxy: string[]
  }
  auth: {
    anonymous: boolean
    jwt?: JwtConfig
    webhook?: WebhookConfig
    apiKeys?: string[]
  }
  permissions: string | null
  storage:
    | { type: 'memory' }
    | { type: 'sqlite'; path: string; synchronous: 'normal' | 'full' }
    | { type: 'postgres'; url: string }
  engine: { type: 'memory' } | RedisEngineConfig
  channels: Record<string, ChannelOptions>
  schemas: Record<string, string>
  limits: {
    maxMessageBytes: number
    maxSubscriptionsPerConnection: number
    messagesPerSecond: number
    messagesBurst: number
    maxBufferedBytes: number
    maxJsonDepth: number
    maxUpdateOps: number
    maxConnectionsPerIp: number
    maxQueryResults: number
    maxQueriesPerConnection: number
    maxQueryClauses: number
    connectsPerSecond: number
  }
  collections: Record<string, { indexes: string[][] }>
  log: { level: string }
  rpc: { defaultTimeoutMs: number; maxTimeoutMs: number }
  presence: { batchMs: number; countsOnly: string[] }
  hooks: HooksConfig
  admin: { enabled: boolean }
  demo: { enabled: boolean }
  mode: 'development' | 'production'
}

/** `engine: { type: redis }`: one Redis server (`url`) or a Redis Cluster (`cluster`), exactly one of them. */
export interface RedisEngineInput {
  type: 'redis'
  url?: string
  /** Seed nodes of a Redis Cluster. */
  cluster?: string[]
  /** Prefix of every key and channel (default `sb:`); nodes sharing it form one cluster. */
  prefix?: string
  /** This node's id, unique in the cluster (default: random per start). */
  nodeId?: string
  /** A node silent this long counts as dead: its presence members vanish, its RPC providers go (default 20s). */
  nodeTimeout?: DurationInput
}

export interface RedisEngineConfig {
  type: 'redis'
  url?: string
  cluster?: string[]
  prefix: string
  nodeId: string
  nodeTimeoutMs: number
}
