import { SwitchboardError, type ClientMessage } from '@switchboard/protocol'

type Request = Exclude<Extract<ClientMessage, { id: number }>, { t: 'hello' }>
/** A request as callers write it: the outbox assigns the id. */
export type RequestBody = Request extends infer M ? (M extends Request ? Omit<M, 'id'> : never) : never

interface Pending {
  resolve(value: unknown): void
  reject(error: SwitchboardError): void
  timer?: ReturnType<typeof setTimeout>
}
interface Queued extends Pending {
  body: RequestBody
  timeoutMs?: number
}

/**
 * Requests on their way: those sent and waiting for their answer (matched by id), and those
 * kept while disconnected (bounded) until the next connection flushes them.
 */
export class Outbox {
  /** Request ids count from 1: 0 is the hello's. */
  private nextId = 1
  private readonly inFlight = new Map<number, Pending>()
  private readonly queue: Queued[] = []

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

  send<R>(body: RequestBody, timeoutMs?: number): Promise<R> {
    return new Promise<R>((resolve, reject) =>
      this.sendPending(body, { resolve: resolve as (v: unknown) => void, reject }, timeoutMs),
    )
  }

  /** Keeps the request for the next connection; QUEUE_FULL beyond the limit. */
  enqueue<R>(body: RequestBody, timeoutMs?: number): Promise<R> {
    if (this.queue.length >= this.limit) {
      return Promise.reject(new SwitchboardError('QUEUE_FULL', `offline queue is full (${this.limit} operations)`))
    }
    return new Promise<R>((resolve, reject) => {
      const q: Queued = { body, resolve: resolve as (v: unknown) => void, reject }
      if (timeoutMs !== undefined) q.timeoutMs = timeoutMs
      this.queue.push(q)
    })
  }

  flush(): void {
    for (const q of this.queue.splice(0)) this.sendPending(q.body, q, q.timeoutMs)
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

  failInFlight(error: SwitchboardError): void {
    const pending = [...this.inFlight.values()]
    this.inFlight.clear()
    for (const p of pending) {
      clearTimeout(p.timer)
      p.reject(error)
    }
  }

  failQueued(error: SwitchboardError): void {
    for (const q of this.queue.splice(0)) q.reject(error)
  }

  private sendPending(body: RequestBody, pending: Pending, timeoutMs?: number): void {
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
