import type { UpgradeRefusal, UpgradeResponse } from './transport.js'

/** A server's Retry-After is honoured up to this long; a longer one is a mistake or a hostile hint. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000

/**
 * Retry-After as ms from `now`: delay-seconds (`120`) or an HTTP date. Undefined when absent
 * or unreadable; clamped to [0, MAX_RETRY_AFTER_MS].
 */
export function parseRetryAfter(header: string | string[] | null | undefined, now: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim()
  if (!value) return undefined
  // An HTTP date starts with the day's name; anything else that is not digits is unreadable.
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : /^[A-Za-z]/.test(value) ? Date.parse(value) - now : NaN
  if (!Number.isFinite(ms)) return undefined
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms))
}

/** What an 'unexpected-response' tells the client: the status, and when to come back. */
export function upgradeRefusal(response: UpgradeResponse, now = Date.now()): UpgradeRefusal {
  const status = response.statusCode ?? 0
  const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now)
  return retryAfterMs === undefined ? { status } : { status, retryAfterMs }
}
