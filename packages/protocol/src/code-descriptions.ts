import type { CloseCode, ErrorCode } from './codes.js'

/**
 * What each code means, in words: for docs, logs and servers. Kept apart from the catalogue in
 * codes.ts so that the browser bundle, which needs only the policy (status, retryable,
 * reconnect), does not carry the prose.
 */
export const errorDescriptions: { readonly [K in ErrorCode]: string } = {
  AUTH_FAILED: 'The credentials were missing, invalid or expired.',
  TOKEN_EXPIRED: 'The token expired; fetch a new one and reconnect.',
  PERMISSION_DENIED: 'No permission rule allows this action.',
  NOT_FOUND: 'The named resource does not exist.',
  VERSION_CONFLICT: 'The record changed since the version given in ifVersion.',
  TIMEOUT: 'No answer arrived in time.',
  NO_PROVIDER: 'No provider is registered for this RPC name.',
  RPC_ERROR: "The RPC provider failed; the message is the provider's.",
  PROVIDER_LOST: 'The RPC provider went away before it answered.',
  ALREADY_PROVIDED: 'This connection already provides that RPC name.',
  ALREADY_LISTENING: 'This connection already listens to that pattern (of that kind).',
  INVALID_MESSAGE: 'The frame is not a valid protocol message.',
  INVALID_NAME: 'A channel, record or RPC name is not valid.',
  INVALID_DATA: 'The payload is not acceptable (schema, depth, forbidden keys).',
  TOO_LARGE: 'The message exceeds maxMessageBytes.',
  RATE_LIMITED: 'Too many messages or requests; slow down and retry later.',
  TOO_MANY_SUBSCRIPTIONS: 'maxSubscriptionsPerConnection (or, for live queries, maxQueriesPerConnection) reached.',
  TOO_MANY_CONNECTIONS: 'The client address has limits.maxConnectionsPerIp connections open; retry later.',
  ALREADY_SUBSCRIBED: 'This connection is already subscribed to that channel.',
  NOT_SUBSCRIBED: 'This connection is not subscribed to that channel.',
  NOT_CONNECTED: 'The handshake has not completed.',
  UNSUPPORTED_VERSION: 'The protocol version is not supported by this server.',
  SLOW_CONSUMER: 'The connection could not keep up with its messages.',
  UNAVAILABLE: 'The server is starting or shutting down, or its cluster engine (Redis) is unreachable.',
  DISCONNECTED: 'The connection dropped before an answer arrived.',
  QUEUE_FULL: 'The client offline queue is full.',
  CLOSED: 'The client was closed by the application.',
  INTERNAL: 'An unexpected server error; details are in the server log.',
}

export const closeDescriptions: { readonly [K in CloseCode]: string } = {
  1000: 'Closed on purpose by the peer.',
  1001: 'The endpoint went away.',
  1006: 'The connection dropped without a close frame.',
  1009: 'A frame exceeded the hard frame size limit.',
  1011: 'Unexpected server condition.',
  4000: 'The server is draining; reconnect elsewhere.',
  4001: 'No frame from the peer within the heartbeat timeout.',
  4002: 'The outbound buffer exceeded maxBufferedBytes.',
  4003: 'The hello message did not arrive in time.',
  4004: 'The token expired; reconnect with a new one.',
  4005: 'Sustained flooding after RATE_LIMITED errors.',
  4006: 'Refused by a connection limit (the err frame before it names which); retry with backoff.',
  4007: 'The server lost its connection to the cluster engine, so deliveries may be missing: reconnect (elsewhere) and recover.',
  4008: "The node is draining (a deploy): reconnect after the `drain` message's hint, to another node or the restarted one.",
  4009: 'The credentials are due to be checked again (auth.webhook.sessionTtl): reconnect at once with the same ones.',
  4500: 'Authentication failed.',
  4501: 'Repeated invalid messages.',
  4502: 'The protocol version is not supported.',
}
