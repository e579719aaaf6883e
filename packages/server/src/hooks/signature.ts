import { createHmac, timingSafeEqual } from 'node:crypto'

/** Headers of every hook request. */
export const HOOK_TIMESTAMP_HEADER = 'x-switchboard-timestamp'
export const HOOK_SIGNATURE_HEADER = 'x-switchboard-signature'
const SCHEME = 'v1='

/**
 * The signature of a hook request: `v1=` + hex HMAC-SHA256, keyed with `hooks.secret`, of the
 * timestamp (epoch ms, as sent in the timestamp header), a `.`, and the exact body bytes.
 */
export function signHook(secret: string, timestamp: number, body: string): string {
  return SCHEME + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

export interface VerifyHookOptions {
  secret: string
  /** The raw request body, exactly as received. */
  body: string
  /** The timestamp header. */
  timestamp: string | null | undefined
  /** The signature header. */
  signature: string | null | undefined
  /** Now, in epoch ms (default Date.now()). */
  now?: number
  /** How far the timestamp may be from now (default 5 minutes): an older request is a replay. */
  toleranceMs?: number
}

/** Checks a hook request's signature and timestamp in constant time. For receivers written in Node. */
export function verifyHookSignature(options: VerifyHookOptions): boolean {
  const { timestamp, signature } = options
  if (!timestamp || !signature || !/^\d{1,16}$/.test(timestamp)) return false
  const at = Number(timestamp)
  if (Math.abs((options.now ?? Date.now()) - at) > (options.toleranceMs ?? 5 * 60_000)) return false
  const expected = Buffer.from(signHook(options.secret, at, options.body))
  const given = Buffer.from(signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
