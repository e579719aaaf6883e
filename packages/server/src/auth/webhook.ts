import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import type { WebhookConfig } from '../config/types.js'
import { SwitchboardError } from '../errors.js'
import type { AuthResult } from './authenticator.js'
import { userFromClaims } from './jwt.js'

/** Answers kept at most; the oldest go first. */
const MAX_CACHED = 10_000
/** A webhook answer larger than this is refused (it should be a few hundred bytes). */
const MAX_ANSWER_BYTES = 64 * 1024

/** An accept says until when (epoch ms) it holds, if it does not hold forever. */
type Answer =
  { ok: true; userId: string; claims: Record<string, unknown>; answeredAt: number; expiresAt?: number } | { ok: false }

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{
  status: number
  text(): Promise<string>
}>

/**
 * Webhook auth: POSTs `{ "token": … }` as JSON to the configured URL. 200 with
 * `{ "userId": "…", "claims": { … }, "expiresIn"?: <seconds> }` accepts, 401/403 rejects;
 * anything else (another status, a bad answer, no answer within `timeoutMs`) fails the attempt
 * without caching it. Accepts and rejects are cached for `cacheTtlMs`, keyed by the token's
 * SHA-256 (the token itself is never kept), and concurrent checks of one token share one request.
 *
 * An accept holds for `expiresIn` or `sessionTtlMs`, whichever is shorter (counted from the
 * webhook's answer): a session opened with it is then closed with SESSION_EXPIRED, and the client
 * reconnects with the same token, which the webhook checks again. So a token the backend revoked
 * loses its sessions within that time.
 */
export class WebhookVerifier {
  private readonly cache = new Map<string, { until: number; answer: Answer }>()
  private readonly inFlight = new Map<string, Promise<Answer>>()

  constructor(
    private readonly config: WebhookConfig,
    private readonly log: Logger,
    private readonly fetchImpl: FetchLike = fetch as unknown as FetchLike,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<AuthResult> {
    const key = createHash('sha256').update(token, 'utf8').digest('base64url')
    const cached = this.cache.get(key)
    let answer: Answer
    const now = this.now()
    if (cached && cached.until > now && !(cached.answer.ok && (cached.answer.expiresAt ?? Infinity) <= now)) {
      answer = cached.answer
    } else {
      if (cached) this.cache.delete(key)
      let pending = this.inFlight.get(key)
      if (!pending) {
        pending = this.ask(token).finally(() => this.inFlight.delete(key))
        this.inFlight.set(key, pending)
      }
      answer = await pending
      this.remember(key, answer)
    }
    if (!answer.ok) throw new SwitchboardError('AUTH_FAILED', 'the auth webhook rejected the token')
    // A fresh object every time: the permission cache is keyed by user object.
    const result: AuthResult = { user: userFromClaims(answer.userId, answer.claims), issuedAt: answer.answeredAt }
    if (answer.expiresAt !== undefined) {
      result.expiresAt = answer.expiresAt
      result.expiry = 'recheck'
    }
    return result
  }

  private remember(key: string, answer: Answer): void {
    if (this.config.cacheTtlMs <= 0 || this.cache.has(key)) return
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string)
    this.cache.set(key, { until: this.now() + this.config.cacheTtlMs, answer })
  }

  /** One request; resolves with an answer to cache, throws (uncached) when the webhook failed. */
  private async ask(token: string): Promise<Answer> {
    let status: number
    let text: string
    try {
      const res = await this.fetchImpl(this.config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ token }),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      })
      status = res.status
      text = status === 200 ? await res.text() : ''
    } catch (err) {
      const timedOut = (err as Error)?.name === 'TimeoutError'
      this.log.warn(
        { url: this.config.url, err: timedOut ? undefined : err },
        timedOut ? 'auth webhook timed out' : 'auth webhook unreachable',
      )
      throw new SwitchboardError(
        'AUTH_FAILED',
        timedOut ? 'the auth webhook did not answer in time' : 'the auth webhook is unreachable',
      )
    }
    if (status === 401 || status === 403) return { ok: false }
    if (status !== 200) {
      this.log.warn({ url: this.config.url, status }, 'auth webhook answered with an unexpected status')
      throw new SwitchboardError('AUTH_FAILED', 'the auth webhook failed')
    }
    const answer = text.length <= MAX_ANSWER_BYTES ? parseAnswer(text) : undefined
    if (!answer) {
      this.log.warn(
        { url: this.config.url },
        'auth webhook answer is not { userId: string, claims?: object, expiresIn?: seconds > 0 }',
      )
      throw new SwitchboardError('AUTH_FAILED', 'the auth webhook gave an invalid answer')
    }
    const limits = [this.config.sessionTtlMs || Infinity, answer.expiresIn * 1000]
    const holdsMs = Math.min(...limits)
    const answeredAt = this.now()
    const accept: Answer = { ok: true, userId: answer.userId, claims: answer.claims, answeredAt }
    if (holdsMs !== Infinity) accept.expiresAt = answeredAt + holdsMs
    return accept
  }
}

interface ParsedAnswer {
  userId: string
  claims: Record<string, unknown>
  /** Seconds; Infinity when the webhook gave none. */
  expiresIn: number
}

function parseAnswer(text: string): ParsedAnswer | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const { userId, claims, expiresIn } = value as { userId?: unknown; claims?: unknown; expiresIn?: unknown }
  if (typeof userId !== 'string' || userId.length === 0) return undefined
  if (claims !== undefined && (typeof claims !== 'object' || claims === null || Array.isArray(claims))) return undefined
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !(expiresIn > 0) || !Number.isFinite(expiresIn)))
    return undefined
  return {
    userId,
    claims: (claims ?? {}) as Record<string, unknown>,
    expiresIn: typeof expiresIn === 'number' ? expiresIn : Infinity,
  }
}
