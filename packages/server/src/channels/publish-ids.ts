/**
 * Idempotent publish: a publication id, scoped to who published it, becomes the broker's
 * idempotency key, so a publish resent with the same id (its ack was lost with the connection,
 * or an HTTP call was retried) within the window is published once and answered with the first
 * one's position, on any node the broker spans.
 */

/** How long a publication id is remembered. Resends later than this publish again. */
export const PUBLISH_DEDUPE_WINDOW_MS = 2 * 60_000

/** Who a publication id belongs to: a user (null when anonymous), or the embedding app. */
export type PublishScope = { user: string | null } | 'server'

/** Unambiguous for every user id: clients' keys have two elements, the server's one. */
export function publishKey(scope: PublishScope, id: string): string {
  return scope === 'server' ? JSON.stringify([id]) : JSON.stringify([scope.user, id])
}

export const isValidPublishId = (id: unknown): id is string =>
  typeof id === 'string' && id.length >= 1 && id.length <= 64
