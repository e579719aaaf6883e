import { CloseCode, isErrorCode } from '@switchboard/protocol'
import type { FetchFunction, UpgradeRefusal } from './transport.js'
import { parseRetryAfter } from './upgrade-refusal.js'

/** How a fallback transport ended: the close to report, and the server's refusal if it refused. */
export class TransportEnd {
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly refusal?: UpgradeRefusal,
  ) {}
}

export const SESSION_HEADER = 'x-switchboard-session'
/** A failed request is retried this many times (after 50, 100, 200, … ms) before the transport gives up. */
const RETRIES = 5

export const pause = (failures: number) => new Promise((r) => setTimeout(r, 25 << failures))

export const unreachable = () => new TransportEnd(CloseCode.ABNORMAL, 'the server cannot be reached')

/** `http://host/base` + `/send` → `http://host/base/send`. */
export function endpoint(base: string, path: string): string {
  const url = new URL(base)
  url.pathname = url.pathname.replace(/\/$/, '') + path
  url.search = ''
  return url.toString()
}

/** An HTTP status where a session answer was expected: the session is over, or the server refused. */
async function answered(r: Response): Promise<TransportEnd> {
  if (r.status === 404) return new TransportEnd(CloseCode.ABNORMAL, 'the session is over')
  if (r.status === 413) return new TransportEnd(CloseCode.MESSAGE_TOO_BIG, 'a request exceeded the size limit')
  let error: { code?: unknown; message?: unknown } | undefined
  try {
    error = ((await r.json()) as { error?: typeof error }).error
  } catch {
    // not ours (a proxy's page)
  }
  const refusal: { -readonly [K in keyof UpgradeRefusal]: UpgradeRefusal[K] } = { status: r.status }
  const retryAfterMs = parseRetryAfter(r.headers.get('retry-after') ?? undefined, Date.now())
  if (retryAfterMs !== undefined) refusal.retryAfterMs = retryAfterMs
  if (isErrorCode(error?.code)) refusal.code = error.code
  if (typeof error?.message === 'string') refusal.message = error.message
  return new TransportEnd(CloseCode.ABNORMAL, `the server answered HTTP ${r.status}`, refusal)
}

/** Goodbyes that did not get through (the server was unreachable): said again once it answers. */
const unsaid: [url: string, session: string][] = []

/**
 * Ends a session on the server (`POST /send` with `close`), so that a client that closed or gave
 * up does not linger there (in presence, as an RPC provider) until the heartbeat timeout.
 * Fire and forget; `keepalive` lets it outlive a closing page.
 */
export function goodbye(fetchImpl: FetchFunction, base: string, session: string, again = true): void {
  fetchImpl(endpoint(base, '/send'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SESSION_HEADER]: session },
    body: '{"seq":1,"frames":[],"close":true}',
    keepalive: true,
  }).catch(() => {
    // Said once more at the next successful /connect (the newest few only: a server gone for
    // good must not crowd out the others).
    if (again && unsaid.push([base, session]) > 8) unsaid.shift()
  })
}

/** `POST /connect`: a new session on the server, addressed by the secret it answers with. */
export async function openSession(
  fetchImpl: FetchFunction,
  base: string,
  transport: 'sse' | 'longpoll',
  signal: AbortSignal,
): Promise<{ session: string; ticket?: string }> {
  let r: Response
  try {
    r = await fetchImpl(endpoint(base, '/connect'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transport }),
      signal,
    })
  } catch {
    throw unreachable()
  }
  if (!r.ok) throw await answered(r)
  for (const [url, session] of unsaid.splice(0)) goodbye(fetchImpl, url, session, false)
  return (await r.json()) as { session: string; ticket?: string }
}

/**
 * Repeats `request` (and reading its answer) through network failures, a few times; an HTTP
 * error status ends at once.
 */
export async function retrying<T>(
  request: () => Promise<Response>,
  read: (r: Response) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      const r = await request()
      if (!r.ok) throw await answered(r)
      return await read(r)
    } catch (err) {
      if (err instanceof TransportEnd || signal.aborted || failures > RETRIES) throw err
      await pause(failures)
    }
  }
}

/**
 * The client → server half of both fallback transports: frames queue here and leave as `POST
 * /send` bodies, one request at a time (so they arrive in order), numbered so that a body
 * retried after a lost answer is applied once.
 */
export class Uplink {
  private readonly queue: string[] = []
  /** Sequence number of queue[0]. */
  private seq = 1
  private busy = false

  constructor(
    private readonly fetchImpl: FetchFunction,
    private readonly url: string,
    private readonly session: string,
    private readonly signal: AbortSignal,
    private readonly fail: (end: TransportEnd) => void,
  ) {}

  send(frame: string): void {
    this.queue.push(frame)
    if (this.busy) return
    this.busy = true
    // Frames sent in the same turn leave together.
    void Promise.resolve().then(() => this.post())
  }

  private async post(): Promise<void> {
    // At most 1000 frames and 256 KiB a body (at least one frame): under every server's limit.
    let n = 0
    for (let size = 0; n < this.queue.length && n < 1000; n++) {
      size += (this.queue[n] as string).length
      if (n > 0 && size > 256 * 1024) break
    }
    const frames = this.queue.slice(0, n)
    const body = { seq: this.seq, frames }
    try {
      await retrying(
        () => this.fetchImpl(this.url, this.init(body)),
        async () => {},
        this.signal,
      )
    } catch (err) {
      if (!this.signal.aborted) this.fail(err instanceof TransportEnd ? err : unreachable())
      return
    }
    this.queue.splice(0, frames.length)
    this.seq += frames.length
    if (this.queue.length > 0) void this.post()
    else this.busy = false
  }

  private init(body: object): RequestInit {
    return {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SESSION_HEADER]: this.session },
      body: JSON.stringify(body),
      signal: this.signal,
    }
  }
}
