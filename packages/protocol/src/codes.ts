/**
 * The one catalogue of error codes and close codes. Client and server both read from here:
 * the client's reconnect policy is driven by `closeCodes[…].reconnect`, the HTTP API maps
 * error codes to status codes through `errorCodes[…].http`.
 */

export interface ErrorCodeInfo {
  /** HTTP status used when this error is returned by the HTTP API. */
  readonly http: number
  /** Whether the same request may succeed if simply retried later. */
  readonly retryable: boolean
  readonly description: string
}

export const errorCodes = {
  AUTH_FAILED: { http: 401, retryable: false, description: 'The credentials were missing, invalid or expired.' },
  TOKEN_EXPIRED: { http: 401, retryable: true, description: 'The token expired; fetch a new one and reconnect.' },
  PERMISSION_DENIED: { http: 403, retryable: false, description: 'No permission rule allows this action.' },
  NOT_FOUND: { http: 404, retryable: false, description: 'The named resource does not exist.' },
  VERSION_CONFLICT: {
    http: 409,
    retryable: false,
    description: 'The record changed since the version given in ifVersion.',
  },
  TIMEOUT: { http: 504, retryable: true, description: 'No answer arrived in time.' },
  NO_PROVIDER: { http: 503, retryable: true, description: 'No provider is registered for this RPC name.' },
  RPC_ERROR: { http: 502, retryable: false, description: "The RPC provider failed; the message is the provider's." },
  PROVIDER_LOST: { http: 502, retryable: true, description: 'The RPC provider went away before it answered.' },
  ALREADY_PROVIDED: { http: 409, retryable: false, description: 'This connection already provides that RPC name.' },
  ALREADY_LISTENING: {
    http: 409,
    retryable: false,
    description: 'This connection already listens to that pattern (of that kind).',
  },
  INVALID_MESSAGE: { http: 400, retryable: false, description: 'The frame is not a valid protocol message.' },
  INVALID_NAME: { http: 400, retryable: false, description: 'A channel, record or RPC name is not valid.' },
  INVALID_DATA: {
    http: 400,
    retryable: false,
    description: 'The payload is not acceptable (schema, depth, forbidden keys).',
  },
  TOO_LARGE: { http: 413, retryable: false, description: 'The message exceeds maxMessageBytes.' },
  RATE_LIMITED: {
    http: 429,
    retryable: true,
    description: 'Too many messages or requests; slow down and retry later.',
  },
  TOO_MANY_SUBSCRIPTIONS: {
    http: 429,
    retryable: false,
    description: 'maxSubscriptionsPerConnection (or, for live queries, maxQueriesPerConnection) reached.',
  },
  TOO_MANY_CONNECTIONS: {
    http: 429,
    retryable: true,
    description: 'The client address has limits.maxConnectionsPerIp connections open; retry later.',
  },
  ALREADY_SUBSCRIBED: {
    http: 409,
    retryable: false,
    description: 'This connection is already subscribed to that channel.',
  },
  NOT_SUBSCRIBED: { http: 409, retryable: false, description: 'This connection is not subscribed to that channel.' },
  NOT_CONNECTED: { http: 400, retryable: false, description: 'The handshake has not completed.' },
  UNSUPPORTED_VERSION: {
    http: 400,
    retryable: false,
    description: 'The protocol version is not supported by this server.',
  },
  SLOW_CONSUMER: { http: 503, retryable: true, description: 'The connection could not keep up with its messages.' },
  UNAVAILABLE: {
    http: 503,
    retryable: true,
    description: 'The server is starting or shutting down, or its cluster engine (Redis) is unreachable.',
  },
  DISCONNECTED: { http: 503, retryable: true, description: 'The connection dropped before an answer arrived.' },
  QUEUE_FULL: { http: 503, retryable: true, description: 'The client offline queue is full.' },
  CLOSED: { http: 400, retryable: false, description: 'The client was closed by the application.' },
  INTERNAL: { http: 500, retryable: true, description: 'An unexpected server error; details are in the server log.' },
} as const satisfies Record<string, ErrorCodeInfo>

export type ErrorCode = keyof typeof errorCodes

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value)
}

/**
 * What a close means to a client:
 * - `reconnect: false`: terminal; the client reports `error` (or DISCONNECTED) and stops.
 * - `reconnect: true, immediate: true`: reconnect at once (after the server's `drain` hint, if it
 *   gave one), quietly: a drain, an expired session.
 * - `reconnect: true` with an `error`: a refusal or penalty; the client reports it and reconnects
 *   with backoff.
 * - `reconnect: true` without an `error`: an ordinary drop; the client reconnects quietly with backoff.
 */
export interface CloseCodeInfo {
  readonly name: string
  /** May the client reconnect on its own? Ranges carry the policy: 4000–4499 yes, 4500–4999 no. */
  readonly reconnect: boolean
  /** Reconnect at once (ideally to another URL) instead of waiting for the backoff delay. */
  readonly immediate?: boolean
  /**
   * The error this close stands for: reported for refusals and terminal closes, and the reason a
   * client gives up when it cannot cure it (TOKEN_EXPIRED with a fixed token). Absent: a drop.
   */
  readonly error?: ErrorCode
  readonly description: string
}

/** WebSocket close codes (also used as `code` of the SSE/long-poll close event). */
export const closeCodes = {
  1000: { name: 'NORMAL', reconnect: false, description: 'Closed on purpose by the peer.' },
  1001: { name: 'GOING_AWAY', reconnect: true, description: 'The endpoint went away.' },
  1006: { name: 'ABNORMAL', reconnect: true, description: 'The connection dropped without a close frame.' },
  1009: { name: 'MESSAGE_TOO_BIG', reconnect: true, description: 'A frame exceeded the hard frame size limit.' },
  1011: { name: 'SERVER_ERROR', reconnect: true, description: 'Unexpected server condition.' },
  4000: {
    name: 'SHUTDOWN',
    reconnect: true,
    immediate: true,
    description: 'The server is draining; reconnect elsewhere.',
  },
  4001: {
    name: 'HEARTBEAT_TIMEOUT',
    reconnect: true,
    description: 'No frame from the peer within the heartbeat timeout.',
  },
  4002: {
    name: 'SLOW_CONSUMER',
    reconnect: true,
    error: 'SLOW_CONSUMER',
    description: 'The outbound buffer exceeded maxBufferedBytes.',
  },
  4003: { name: 'HANDSHAKE_TIMEOUT', reconnect: true, description: 'The hello message did not arrive in time.' },
  4004: {
    name: 'TOKEN_EXPIRED',
    reconnect: true,
    immediate: true,
    error: 'TOKEN_EXPIRED',
    description: 'The token expired; reconnect with a new one.',
  },
  4005: {
    name: 'RATE_LIMITED',
    reconnect: true,
    error: 'RATE_LIMITED',
    description: 'Sustained flooding after RATE_LIMITED errors.',
  },
  4006: {
    name: 'CONNECTION_LIMIT',
    reconnect: true,
    error: 'TOO_MANY_CONNECTIONS',
    description: 'Refused by a connection limit (the err frame before it names which); retry with backoff.',
  },
  4007: {
    name: 'ENGINE_LOST',
    reconnect: true,
    immediate: true,
    description:
      'The server lost its connection to the cluster engine, so deliveries may be missing: reconnect (elsewhere) and recover.',
  },
  4008: {
    name: 'DRAINING',
    reconnect: true,
    immediate: true,
    description:
      "The node is draining (a deploy): reconnect after the `drain` message's hint, to another node or the restarted one.",
  },
  4009: {
    name: 'SESSION_EXPIRED',
    reconnect: true,
    immediate: true,
    description:
      'The credentials are due to be checked again (auth.webhook.sessionTtl): reconnect at once with the same ones.',
  },
  4500: { name: 'AUTH_FAILED', reconnect: false, error: 'AUTH_FAILED', description: 'Authentication failed.' },
  4501: {
    name: 'PROTOCOL_ERROR',
    reconnect: false,
    error: 'INVALID_MESSAGE',
    description: 'Repeated invalid messages.',
  },
  4502: {
    name: 'UNSUPPORTED_VERSION',
    reconnect: false,
    error: 'UNSUPPORTED_VERSION',
    description: 'The protocol version is not supported.',
  },
} as const satisfies Record<number, CloseCodeInfo>

export type CloseCode = keyof typeof closeCodes

export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  SHUTDOWN: 4000,
  HEARTBEAT_TIMEOUT: 4001,
  SLOW_CONSUMER: 4002,
  HANDSHAKE_TIMEOUT: 4003,
  TOKEN_EXPIRED: 4004,
  RATE_LIMITED: 4005,
  CONNECTION_LIMIT: 4006,
  ENGINE_LOST: 4007,
  DRAINING: 4008,
  SESSION_EXPIRED: 4009,
  AUTH_FAILED: 4500,
  PROTOCOL_ERROR: 4501,
  UNSUPPORTED_VERSION: 4502,
} as const satisfies Record<string, CloseCode>

/** Policy for close codes not in the catalogue, by range. */
export function closeCodeInfo(code: number): CloseCodeInfo {
  const known = (closeCodes as Record<number, CloseCodeInfo>)[code]
  if (known) return known
  if (code >= 4500 && code <= 4999) return { name: 'TERMINAL', reconnect: false, description: 'Terminal close.' }
  return { name: 'UNKNOWN', reconnect: true, description: 'Unknown close code.' }
}

/**
 * The error a WebSocket upgrade answered with an HTTP status instead of 101 means, e.g. the
 * server's 429 when `limits.maxConnectionsPerIp` is reached, or 503 while it starts or drains.
 * Each status maps to the code whose `http` it is; statuses not listed (a proxy's 404 or 502
 * during a deploy) mean UNAVAILABLE: the client reports them and keeps retrying.
 */
export const upgradeStatusErrors = {
  401: 'AUTH_FAILED',
  403: 'PERMISSION_DENIED',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
} as const satisfies Record<number, ErrorCode>

export function errorCodeForUpgradeStatus(status: number): ErrorCode {
  return (upgradeStatusErrors as Record<number, ErrorCode>)[status] ?? 'UNAVAILABLE'
}
