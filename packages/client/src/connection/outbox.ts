import { SwitchboardError, type ClientMessage } from '@switchboard/protocol'

type Request = Exclude<Extract<ClientMessage, { id: number }>, { t: 'hello' }>
/** A request as callers write it: the outbox assigns the id. */
export type RequestBody = Request extends infer M ? (M extends Request ? Omit<M, 'id'> : never) : never

/** A request on its way, queued or sent. */
interface Pending {
  body: RequestBody
  resolve(value: unknown): void
  reject(error: SwitchboardError): void
  timeoutMs?: number
  timer?: ReturnType<typeof setTimeout>
  /** Idempotent: goes back to the queue when the connection drops before its answer (see `failInFlight`). */
  resend?: true
}

export interface SendOptions {
  timeoutMs?: number | undefined
  /**
   * The request is idempotent (a publish with its id): if the connection drops before the answer,
   * it is sent again on the next connection instead of failing with DISCONNECTED.
   */
  resend?: boolean | undefined
}

/**
 * Requests on their way: those sent and waiting for their answer (matched by id), and those
 * kept while disconnected (bounded) until the next connection flushes them.
 */
export class Outbox {
  /** Request ids count from 1: 0 is the hello's. */
  private nextId = 1
  private readonly inFlight = new Map<number, Pending>()
  private readonly queue: Pending[] = []

  constructor(
    private readonly limit: number,
    private readonly write: (frame: string) => void,
    /** Encodes a message, throwing the SwitchboardError the server would answer (too large, too deep). */
    private readonly encode: (message: object) => string = (m) => JSON.stringify(m),
  ) {}

  /** Requests sent and not answered yet. */
  get unanswered(): number {
    return this.inFlight.size
  }

  send<R>(body: RequestBody, options: SendOptions = {}): Promise<R> {
    return new Promise<R>((resolve, reject) =>
      this.sendPending(this.pending(body, resolve as (v: unknown) => void, reject, options)),
    )
  }

  /** Keeps the request for the next connection; QUEUE_FULL beyond the limit. */
  enqueue<R>(body: RequestBody, options: SendOptions = {}): Promise<R> {
    if (this.queue.length >= this.limit) {
      return Promise.reject(new SwitchboardError('QUEUE_FULL', `offline queue is full (${this.limit} operations)`))
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push(this.pending(body, resolve as (v: unknown) => void, reject, options))
    })
  }

  flush(): void {
    for (const q of this.queue.splice(0)) this.sendPending(q)
  }

  /** Settles the request `id` answers; false when no request waits for it. */
  settle(id: number, result: unknown, error?: SwitchboardError): boolean {
    const pending = this.inFlight.get(id)
    if (!pending) return false
    this.inFlight.delete(id)
    clearTimeout(pending.timer)
    if (error) pending.reject(error)
    else pending.resolve(result)
    return true
  }

  /**
   * The connection dropped: requests without an answer fail with `error`, except idempotent
   * ones, which go back to the front of the queue in the order they were sent (ahead of what
   * was queued after them) to be sent again, with the same body, on the next connection.
   */
  failInFlight(error: SwitchboardError): void {
    const pending = [...this.inFlight.values()]
    this.inFlight.clear()
    const again: Pending[] = []
    for (const p of pending) {
      clearTimeout(p.timer)
      if (p.resend) again.push(p)
      else p.reject(error)
    }
    this.queue.unshift(...again)
  }

  failQueued(error: SwitchboardError): void {
    for (const q of this.queue.splice(0)) q.reject(error)
  }

  private pending(
    body: RequestBody,
    resolve: (value: unknown) => void,
    reject: (error: SwitchboardError) => void,
    options: SendOptions,
  ): Pending {
    const p: Pending = { body, resolve, reject }
    if (options.timeoutMs !== undefined) p.timeoutMs = options.timeoutMs
    if (options.resend) p.resend = true
    return p
  }

  private sendPending(pending: Pending): void {
    const { body, timeoutMs } = pending
    const id = this.nextId++
    let frame: string
    try {
      // Type and id first: a server that refuses the frame unparsed still finds the id in its head.
      frame = this.encode(Object.assign({ t: body.t, id }, body))
    } catch (err) {
      pending.reject(err as SwitchboardError)
      return
    }
    if (timeoutMs !== undefined) {
      pending.timer = setTimeout(() => {
        this.inFlight.delete(id)
        pending.reject(new SwitchboardError('TIMEOUT', `no answer within ${timeoutMs} ms`))
      }, timeoutMs)
    }
    this.inFlight.set(id, pending)
    this.write(frame)
  }
}
