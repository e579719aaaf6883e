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
}

/**
 * Whether the same request may succeed if simply retried later, per error code: the part of the
 * catalogue a client needs (kept apart from the HTTP statuses, so the browser bundle carries
 * only this).
 */
export const retryableCodes = {
  AUTH_FAILED: false,
  TOKEN_EXPIRED: true,
  PERMISSION_DENIED: false,
  NOT_FOUND: false,
  VERSION_CONFLICT: false,
  TIMEOUT: true,
  NO_PROVIDER: true,
  RPC_ERROR: false,
  PROVIDER_LOST: true,
  ALREADY_PROVIDED: false,
  ALREADY_LISTENING: false,
  INVALID_MESSAGE: false,
  INVALID_NAME: false,
  INVALID_DATA: false,
  TOO_LARGE: false,
  RATE_LIMITED: true,
  TOO_MANY_SUBSCRIPTIONS: false,
  TOO_MANY_CONNECTIONS: true,
  ALREADY_SUBSCRIBED: false,
  NOT_SUBSCRIBED: false,
  NOT_CONNECTED: false,
  UNSUPPORTED_VERSION: false,
  SLOW_CONSUMER: true,
  UNAVAILABLE: true,
  DISCONNECTED: true,
  QUEUE_FULL: true,
  CLOSED: false,
  INTERNAL: true,
} as const satisfies Record<string, boolean>

export type ErrorCode = keyof typeof retryableCodes

/** The HTTP status the HTTP API answers with for each code. */
const httpStatuses: { readonly [C in ErrorCode]: number } = {
  AUTH_FAILED: 401,
  TOKEN_EXPIRED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  VERSION_CONFLICT: 409,
  TIMEOUT: 504,
  NO_PROVIDER: 503,
  RPC_ERROR: 502,
  PROVIDER_LOST: 502,
  ALREADY_PROVIDED: 409,
  ALREADY_LISTENING: 409,
  INVALID_MESSAGE: 400,
  INVALID_NAME: 400,
  INVALID_DATA: 400,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  TOO_MANY_SUBSCRIPTIONS: 429,
  TOO_MANY_CONNECTIONS: 429,
  ALREADY_SUBSCRIBED: 409,
  NOT_SUBSCRIBED: 409,
  NOT_CONNECTED: 400,
  UNSUPPORTED_VERSION: 400,
  SLOW_CONSUMER: 503,
  UNAVAILABLE: 503,
  DISCONNECTED: 503,
  QUEUE_FULL: 503,
  CLOSED: 400,
  INTERNAL: 500,
}

/** The whole catalogue: HTTP status and retryability per code (pure: left out of bundles that do not use it). */
export const errorCodes = /* @__PURE__ */ wholeCatalogue()

function wholeCatalogue(): { readonly [C in ErrorCode]: ErrorCodeInfo } {
  const entries = Object.entries(retryableCodes).map(([code, retryable]) => [
    code,
    { http: httpStatuses[code as ErrorCode], retryable },
  ])
  return Object.fromEntries(entries) as { readonly [C in ErrorCode]: ErrorCodeInfo }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(retryableCodes, value)
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
  /** May the client reconnect on its own? Ranges carry the policy: 4000–4499 yes, 4500–4999 no. */
  readonly reconnect: boolean
  /** Reconnect at once (ideally to another URL) instead of waiting for the backoff delay. */
  readonly immediate?: boolean
  /**
   * The error this close stands for: reported for refusals and terminal closes, and the reason a
   * client gives up when it cannot cure it (TOKEN_EXPIRED with a fixed token). Absent: a drop.
   */
  readonly error?: ErrorCode
}

/** WebSocket close codes (also used as `code` of the SSE/long-poll close event). */
export const closeCodes = {
  1000: { reconnect: false },
  1001: { reconnect: true },
  1006: { reconnect: true },
  1009: { reconnect: true },
  1011: { reconnect: true },
  4000: {
    reconnect: true,
    immediate: true,
  },
  4001: {
    reconnect: true,
  },
  4002: {
    reconnect: true,
    error: 'SLOW_CONSUMER',
  },
  4003: { reconnect: true },
  4004: {
    reconnect: true,
    immediate: true,
    error: 'TOKEN_EXPIRED',
  },
  4005: {
    reconnect: true,
    error: 'RATE_LIMITED',
  },
  4006: {
    reconnect: true,
    error: 'TOO_MANY_CONNECTIONS',
  },
  4007: {
    reconnect: true,
    immediate: true,
  },
  // A drain (a deploy): reconnect after the `drain` message's hint, without backoff.
  4008: {
    reconnect: true,
    immediate: true,
  },
  // The credentials are to be checked again: reconnect at once with the same ones.
  4009: {
    reconnect: true,
    immediate: true,
  },
  4500: { reconnect: false, error: 'AUTH_FAILED' },
  4501: {
    reconnect: false,
    error: 'INVALID_MESSAGE',
  },
  4502: {
    reconnect: false,
    error: 'UNSUPPORTED_VERSION',
  },
} as const satisfies Record<number, CloseCodeInfo>

export type CloseCode = keyof typeof closeCodes

export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  MESSAGE_TOO_BIG: 1009,
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
  if (code >= 4500 && code <= 4999) return { reconnect: false }
  return { reconnect: true }
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
