import { randomBytes } from 'node:crypto'
import type {
  ChannelOptions,
  HooksConfig,
  JwtConfig,
  JwtInput,
  RedisEngineConfig,
  SwitchboardConfig,
  SwitchboardConfigInput,
  WebhookConfig,
} from './types.js'
import { trustProxyIssue } from '../http/client-address.js'
import { parseDuration, parseSize } from './units.js'

export const DEFAULT_PORT = 7070

/**
 * Fills in defaults and converts units. Input is assumed schema-valid (see validate.ts);
 * unit errors still throw with a message that names the key.
 */
export function resolveConfig(input: SwitchboardConfigInput = {}): SwitchboardConfig {
  const s = input.server ?? {}
  const l = input.limits ?? {}
  const messagesPerSecond = l.messagesPerSecond ?? 1000
  // Embedders get production mode from NODE_ENV too (the CLI also sets it from --production).
  const mode = input.mode ?? (process.env.NODE_ENV === 'production' ? 'production' : 'development')
  const demoEnabled = input.demo?.enabled ?? mode === 'development'
  const channels: Record<string, ChannelOptions> = {}
  for (const [pattern, opts] of Object.entries(input.channels ?? {})) {
    channels[pattern] = {
      history: {
        size: opts.history?.size ?? 0,
        ttlMs: at(['channels', pattern, 'history', 'ttl'], () => parseDuration(opts.history?.ttl ?? 0)),
      },
    }
  }
  // The demo's chat shows history and recovers after a reconnect: it needs history on its names.
  if (demoEnabled && !channels['demo/**']) channels['demo/**'] = { history: { size: 100, ttlMs: 0 } }
  const storage = input.storage ?? { type: 'sqlite' }
  return {
    server: {
      host: s.host ?? '0.0.0.0',
      port: s.port ?? DEFAULT_PORT,
      cors: s.cors ?? [],
      heartbeat: { intervalMs: s.heartbeat?.intervalMs ?? 10_000, timeoutMs: s.heartbeat?.timeoutMs ?? 30_000 },
      handshakeTimeoutMs: s.handshakeTimeoutMs ?? 10_000,
      drainTimeoutMs: s.drainTimeoutMs ?? 10_000,
      drain: { windowMs: s.drain?.windowMs ?? 10_000 },
      metrics: s.metrics ?? true,
      trustProxy: (s.trustProxy ?? ['loopback', 'private']).map((entry, i) => {
        const problem = trustProxyIssue(entry)
        if (problem) throw new Error(`server.trustProxy.${i}: ${problem}`)
        return entry
      }),
    },
    auth: {
      anonymous: input.auth?.anonymous ?? true,
      ...(input.auth?.jwt && { jwt: resolveJwt(input.auth.jwt) }),
      ...(input.auth?.webhook && { webhook: resolveWebhook(input.auth.webhook) }),
      apiKeys: input.auth?.apiKeys ?? [],
    },
    permissions: input.permissions ?? null,
    storage:
      storage.type === 'sqlite'
        ? {
            type: 'sqlite',
            path: storage.path ?? './switchboard-data/records.db',
            synchronous: storage.synchronous ?? 'normal',
          }
        : storage,
    engine: resolveEngine(input.engine),
    channels,
    schemas: input.schemas ?? {},
    limits: {
      maxMessageBytes: at(['limits', 'maxMessageBytes'], () => parseSize(l.maxMessageBytes ?? '1MiB')),
      maxSubscriptionsPerConnection: l.maxSubscriptionsPerConnection ?? 1000,
      messagesPerSecond,
      messagesBurst: l.messagesBurst ?? messagesPerSecond * 2,
      maxBufferedBytes: at(['limits', 'maxBufferedBytes'], () => parseSize(l.maxBufferedBytes ?? '4MiB')),
      maxJsonDepth: l.maxJsonDepth ?? 32,
      maxUpdateOps: l.maxUpdateOps ?? 1000,
      maxConnectionsPerIp: l.maxConnectionsPerIp ?? 100,
      maxQueryResults: l.maxQueryResults ?? 1000,
      maxQueriesPerConnection: l.maxQueriesPerConnection ?? 100,
      maxQueryClauses: l.maxQueryClauses ?? 16,
      connectsPerSecond: l.connectsPerSecond ?? 500,
    },
    collections: Object.fromEntries(
      Object.entries(input.collections ?? {}).map(([name, c]) => [name, { indexes: c.indexes ?? [] }]),
    ),
    log: { level: input.log?.level ?? 'info' },
    rpc: { defaultTimeoutMs: input.rpc?.defaultTimeoutMs ?? 10_000, maxTimeoutMs: input.rpc?.maxTimeoutMs ?? 120_000 },
    presence: { batchMs: input.presence?.batchMs ?? 50, countsOnly: input.presence?.countsOnly ?? [] },
    hooks: resolveHooks(input.hooks ?? {}),
    // The built-in pages are on by default only in development mode.
    admin: { enabled: input.admin?.enabled ?? mode === 'development' },
    demo: { enabled: demoEnabled },
    mode,
  }
}

function resolveJwt(jwt: JwtInput): JwtConfig {
  const { clockTolerance, jwksCacheTtl, jwksCooldown, ...rest } = jwt
  return {
    ...rest,
    clockToleranceMs: at(['auth', 'jwt', 'clockTolerance'], () => parseDuration(clockTolerance ?? '30s')),
    jwksCacheTtlMs: at(['auth', 'jwt', 'jwksCacheTtl'], () => parseDuration(jwksCacheTtl ?? '10m')),
    jwksCooldownMs: at(['auth', 'jwt', 'jwksCooldown'], () => parseDuration(jwksCooldown ?? '30s')),
  }
}

function resolveWebhook(webhook: NonNullable<NonNullable<SwitchboardConfigInput['auth']>['webhook']>): WebhookConfig {
  return {
    url: webhook.url,
    timeoutMs: webhook.timeoutMs ?? 5000,
    cacheTtlMs: at(['auth', 'webhook', 'cacheTtl'], () => parseDuration(webhook.cacheTtl ?? '30s')),
    sessionTtlMs: at(['auth', 'webhook', 'sessionTtl'], () => parseDuration(webhook.sessionTtl ?? '1h')),
  }
}

function resolveHooks(hooks: NonNullable<SwitchboardConfigInput['hooks']>): HooksConfig {
  const url = hooks.url ?? null
  if (url !== null) {
    at(['hooks', 'url'], () => {
      const parsed = new URL(url)
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('must be an http(s) URL')
    })
    if (!hooks.secret) throw new ConfigValueError(['hooks', 'secret'], 'is required when hooks.url is set')
  }
  const retryDelayMs = hooks.retryDelayMs ?? 500
  return {
    url,
    secret: hooks.secret ?? null,
    events: hooks.events ?? ['occupied', 'vacated', 'connect', 'disconnect'],
    graceMs: hooks.graceMs ?? 1000,
    timeoutMs: hooks.timeoutMs ?? 5000,
    batchMs: hooks.batchMs ?? 50,
    maxBatch: hooks.maxBatch ?? 500,
    maxQueue: hooks.maxQueue ?? 10_000,
    maxAttempts: hooks.maxAttempts ?? 6,
    retryDelayMs,
    maxRetryDelayMs: Math.max(retryDelayMs, hooks.maxRetryDelayMs ?? 30_000),
  }
}

/** A unit error in an otherwise well-formed config; `path` lets the loader point at the line. */
export class ConfigValueError extends Error {
  override name = 'ConfigValueError'
  constructor(
    readonly path: string[],
    readonly reason: string,
  ) {
    super(`${path.join('.')}: ${reason}`)
  }
}

function at<T>(path: string[], fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    throw new ConfigValueError(path, (e as Error).message)
  }
}

function resolveEngine(engine: SwitchboardConfigInput['engine']): SwitchboardConfig['engine'] {
  if (!engine || engine.type === 'memory') return { type: 'memory' }
  const resolved: RedisEngineConfig = {
    type: 'redis',
    prefix: engine.prefix ?? 'sb:',
    nodeId: engine.nodeId ?? randomBytes(6).toString('base64url'),
    nodeTimeoutMs: at(['engine', 'nodeTimeout'], () => parseDuration(engine.nodeTimeout ?? '20s')),
  }
  if (engine.url !== undefined) resolved.url = engine.url
  if (engine.cluster !== undefined) resolved.cluster = engine.cluster
  return resolved
}
