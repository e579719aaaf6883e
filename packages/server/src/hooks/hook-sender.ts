import type { Clock } from '../clock.js'
import type { Logger } from '../log.js'
import type { HookEvent } from './hook-events.js'
import { HOOK_SIGNATURE_HEADER, HOOK_TIMESTAMP_HEADER, signHook } from './signature.js'

export interface HookSenderOptions {
  url: string
  secret: string
  /** A request that has not answered by then is aborted (and retried). */
  timeoutMs: number
  /** How long the first event waits for others to join its request. */
  batchMs: number
  /** Events per request at most. */
  maxBatch: number
  /** Events waiting at most; more are dropped (and counted). */
  maxQueue: number
  /** Tries per request, the first included. */
  maxAttempts: number
  /** Delay before the first retry; doubled for each further one, up to maxRetryDelayMs. */
  retryDelayMs: number
  maxRetryDelayMs: number
}

/** Totals for /metrics. */
export interface HookStats {
  /** Events the receiver accepted (2xx). */
  delivered: number
  /** Events never sent: the queue was full, or the server stopped before they could go. */
  dropped: number
  /** Events sent but given up on: every attempt failed, or the receiver refused them (4xx). */
  failed: number
  /** Requests sent again after a failure. */
  retries: number
}

type Outcome = 'ok' | 'retry' | 'refused'

/**
 * Delivers hook events to `hooks.url`: batched, signed, one request at a time (so the receiver
 * sees events in order), retried with exponential backoff and jitter. Everything it holds is
 * bounded: a slow or dead receiver fills the queue and further events are dropped and counted,
 * never waited for, so the server is never slowed by its backend.
 */
export class HookSender {
  private readonly queue: HookEvent[] = []
  /** The batch being posted or waiting for its retry. */
  private current: HookEvent[] | undefined
  private inFlight: Promise<void> | undefined
  private timer: (() => void) | undefined
  private readonly requests = new Set<AbortController>()
  private closed = false

  constructor(
    private readonly options: HookSenderOptions,
    private readonly clock: Clock,
    private readonly stats: HookStats,
    private readonly log: Logger,
  ) {}

  /** Queues an event; drops it (counted) when the queue is full. Never blocks. */
  push(event: HookEvent): void {
    if (this.closed || this.queue.length >= this.options.maxQueue) {
      this.stats.dropped++
      return
    }
    this.queue.push(event)
    this.schedule()
  }

  /** Events waiting (queued, or in the batch being sent). */
  get backlog(): number {
    return this.queue.length + (this.current?.length ?? 0)
  }

  /**
   * Stops: sends what is still queued once (no retries), bounded by `timeoutMs` in real time so
   * shutdown never waits on a dead receiver; what could not go is counted as dropped.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) this.timer()
    this.timer = undefined
    let expired = false
    const deadline = setTimeout(() => {
      expired = true
      for (const request of this.requests) request.abort()
    }, this.options.timeoutMs)
    try {
      if (this.inFlight) await this.inFlight
      else if (this.current) this.queue.unshift(...this.current.splice(0))
      this.current = undefined
      while (this.queue.length > 0 && !expired) {
        const batch = this.queue.splice(0, this.options.maxBatch)
        this.count(batch, await this.post(batch))
      }
    } finally {
      clearTimeout(deadline)
      this.stats.dropped += this.queue.length
      this.queue.length = 0
    }
  }

  private schedule(): void {
    if (this.current || this.timer !== undefined || this.queue.length === 0 || this.closed) return
    this.timer = this.clock.schedule(this.options.batchMs, () => {
      this.timer = undefined
      this.sendNext()
    })
  }

  private sendNext(): void {
    if (this.current || this.closed || this.queue.length === 0) return
    this.current = this.queue.splice(0, this.options.maxBatch)
    this.attempt(1)
  }

  private attempt(n: number): void {
    const batch = this.current as HookEvent[]
    this.inFlight = this.post(batch).then((outcome) => {
      this.inFlight = undefined
      if (outcome === 'retry' && n < this.options.maxAttempts && !this.closed) {
        this.stats.retries++
        this.timer = this.clock.schedule(this.backoff(n), () => {
          this.timer = undefined
          this.attempt(n + 1)
        })
        return
      }
      this.count(batch, outcome)
      this.current = undefined
      // A backlog of a full batch goes at once; a smaller one waits for company.
      if (this.queue.length >= this.options.maxBatch) this.sendNext()
      else this.schedule()
    })
  }

  private count(batch: HookEvent[], outcome: Outcome): void {
    if (outcome === 'ok') {
      this.stats.delivered += batch.length
      return
    }
    this.stats.failed += batch.length
    this.log.warn({ events: batch.length, outcome }, 'hook delivery failed; events given up')
  }

  /** Exponential, capped, with jitter in the upper half (the delay never drops below half). */
  private backoff(attempt: number): number {
    const { retryDelayMs, maxRetryDelayMs } = this.options
    const full = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** (attempt - 1))
    return Math.round(full / 2 + (Math.random() * full) / 2)
  }

  /** One signed POST; never throws. */
  private async post(batch: HookEvent[]): Promise<Outcome> {
    const body = JSON.stringify({ events: batch })
    const timestamp = this.clock.now()
    const request = new AbortController()
    this.requests.add(request)
    const cancelTimeout = this.clock.schedule(this.options.timeoutMs, () => request.abort())
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [HOOK_TIMESTAMP_HEADER]: String(timestamp),
          [HOOK_SIGNATURE_HEADER]: signHook(this.options.secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: request.signal,
      })
      await res.body?.cancel()
      if (res.status >= 200 && res.status < 300) return 'ok'
      if (res.status === 408 || res.status === 429 || res.status >= 500) return 'retry'
      return 'refused'
    } catch (err) {
      this.log.debug({ err }, 'hook request failed')
      return 'retry'
    } finally {
      cancelTimeout()
      this.requests.delete(request)
    }
  }
}
