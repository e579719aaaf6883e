import { CloseCode, type ErrorCode } from '@switchboard/protocol'
import type { ClientTransportEvents, FetchFunction, TransportFactory, UpgradeRefusal } from './transport.js'
import { parseRetryAfter } from './upgrade-refusal.js'

/** How a fallback transport ended: the close to report, and the server's refusal if it refused. */
export interface TransportEnd {
  readonly ended: true
  readonly code: number
  readonly reason: string
  readonly refusal?: UpgradeRefusal
}

export const ended = (code: number, reason: string, refusal?: UpgradeRefusal): TransportEnd => ({
  ended: true,
  code,
  reason,
  refusal,
})
const isEnd = (e: unknown): e is TransportEnd => (e as TransportEnd | undefined)?.ended === true
const unreachable = () => ended(CloseCode.ABNORMAL, 'server unreachable')

export const SESSION_HEADER = 'x-switchboard-session'
/** A failed request is retried this many times (after 50, 100, 200, 400 and 800 ms), then the transport gives up. */
const RETRIES = 5
const JSON_TYPE = 'application/json'

/** `http://host/base/?q` + `/send` → `http://host/base/send` (`base` is a normalised URL). */
export const endpoint = (base: string, path: string): string => base.replace(/\/?([?#].*)?$/, '') + path

/** A `POST /send` (also a goodbye) for `session`. */
const sending = (session: string, body: string, extra: RequestInit): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': JSON_TYPE, [SESSION_HEADER]: session },
  body,
  ...extra,
})

/** An HTTP status where a session answer was expected: the session is over, or the server refused. */
async function answered(r: Response): Promise<TransportEnd> {
  const { status } = r
  if (status === 404) return ended(CloseCode.ABNORMAL, 'session over')
  if (status === 413) return ended(CloseCode.MESSAGE_TOO_BIG, 'request too large')
  // The server's own answer names its error; a proxy's page does not (the attempt checks the code).
  const error = ((await r.json().catch(() => ({}))) as { error?: { code?: ErrorCode; message?: string } }).error
  return ended(CloseCode.ABNORMAL, `HTTP ${status}`, {
    status,
    retryAfterMs: parseRetryAfter(r.headers.get('retry-after'), Date.now()),
    code: error?.code,
    message: error?.message,
  })
}

/**
 * Repeats `request` (and reading its answer) through network failures, a few times; an HTTP
 * error status ends at once. Each try gets its own signal, tied to `signal` only while it runs:
 * Node's fetch removes the abort listener it puts on a signal only when the request is garbage
 * collected, so a session's one signal reused for every poll would gather thousands of them.
 */
export async function retrying<T>(
  request: (signal: AbortSignal) => Promise<Response>,
  signal: AbortSignal,
  read?: (r: Response) => Promise<T>,
): Promise<T | undefined> {
  for (let failures = 1; ; failures++) {
    const controller = new AbortController()
    const abort = () => controller.abort(signal.reason)
    signal.addEventListener('abort', abort)
    if (signal.aborted) abort()
    try {
      const r = await request(controller.signal)
      if (!r.ok) throw await answered(r)
      return await read?.(r)
    } catch (err) {
      if (isEnd(err) || signal.aborted || failures > RETRIES) throw err
      await new Promise((resolve) => setTimeout(resolve, 25 << failures))
    } finally {
      signal.removeEventListener('abort', abort)
    }
  }
}

/** The last goodbye that did not get through (the server was unreachable): said again once it answers. */
let unsaid: [base: string, session: string] | undefined

/**
 * Ends a session on the server (`POST /send` with `close`), so that a client that closed or gave
 * up does not linger there (in presence, as an RPC provider) until the heartbeat timeout.
 * Fire and forget; `keepalive` lets it outlive a closing page.
 */
function goodbye(fetchImpl: FetchFunction, base: string, session: string, again = true): void {
  const body = '{"seq":1,"frames":[],"close":true}'
  fetchImpl(endpoint(base, '/send'), sending(session, body, { keepalive: true })).catch(() => {
    if (again) unsaid = [base, session] // said once more at the next successful /connect
  })
}

/**
 * The client → server half of both fallback transports: frames queue here and leave as `POST
 * /send` bodies, one request at a time (so they arrive in order), numbered so that a body
 * retried after a lost answer is applied once; at most 1000 frames and 256 KiB a body (at least
 * one frame), under every server's limit.
 */
function uplink(
  fetchImpl: FetchFunction,
  url: string,
  session: string,
  signal: AbortSignal,
  fail: (err: unknown) => void,
): (frame: string) => void {
  const queue: string[] = []
  let seq = 1 // of queue[0]
  let busy = false
  const post = async (): Promise<void> => {
    let n = 0
    for (let size = 0; n < queue.length && n < 1000; n++) {
      size += (queue[n] as string).length
      if (n > 0 && size > 256 * 1024) break
    }
    const body = JSON.stringify({ seq, frames: queue.slice(0, n) })
    try {
      await retrying((attempt) => fetchImpl(url, sending(session, body, { signal: attempt })), signal)
    } catch (err) {
      if (!signal.aborted) fail(err)
      return
    }
    queue.splice(0, n)
    seq += n
    if (queue.length > 0) void post()
    else busy = false
  }
  return (frame) => {
    queue.push(frame)
    if (busy) return
    busy = true
    // Frames sent in the same turn leave together.
    void Promise.resolve().then(post)
  }
}

/** What a fallback transport's downstream half gets to work with. */
export interface Downstream {
  readonly base: string
  readonly signal: AbortSignal
  /** The transport works: the attempt may say hello. */
  open(): void
  frame(frame: string | object): void
  /** `byServer`: the server ended the session (its close), so no goodbye is needed. */
  finish(end: TransportEnd, byServer?: boolean): void
  fail(err: unknown): void
}

/**
 * The skeleton shared by the SSE and long-polling transports: `POST /connect` (a refusal carries
 * its status, code and Retry-After), the uplink, one close whoever ends it, and a goodbye for
 * every session the client gives up. `down` starts the server → client half and returns what
 * stops it.
 */
export function fallbackTransport(
  kind: 'sse' | 'longpoll',
  fetchImpl: FetchFunction,
  down: (opened: { session: string; ticket?: string }, io: Downstream) => (() => void) | void,
): TransportFactory {
  return (base: string, events: ClientTransportEvents) => {
    const controller = new AbortController()
    const { signal } = controller
    let session: string | undefined
    let send: ((frame: string) => void) | undefined
    let stop: (() => void) | void
    let closed = false
    const finish = (end: TransportEnd, byServer = false) => {
      if (closed) return
      closed = true
      controller.abort()
      if (stop) stop()
      if (session && !byServer) goodbye(fetchImpl, base, session)
      events.onClose(end.code, end.reason, end.refusal)
    }
    const fail = (err: unknown) => finish(isEnd(err) ? err : unreachable())
    const opening = fetchImpl(endpoint(base, '/connect'), {
      method: 'POST',
      headers: { 'content-type': JSON_TYPE },
      body: `{"transport":"${kind}"}`,
      signal,
    })
    opening
      .then(async (r) => {
        if (!r.ok) throw await answered(r)
        if (unsaid) goodbye(fetchImpl, ...unsaid, false)
        unsaid = undefined
        const opened = (await r.json()) as { session: string; ticket?: string }
        session = opened.session
        if (closed) return goodbye(fetchImpl, base, session)
        send = uplink(fetchImpl, endpoint(base, '/send'), session, signal, fail)
        stop = down(opened, {
          base,
          signal,
          open: () => closed || events.onOpen(),
          frame: (frame) => closed || events.onFrame(frame),
          finish,
          fail,
        })
      })
      .catch(fail)
    return {
      send: (frame) => send?.(frame),
      close: (code = CloseCode.NORMAL, reason = '') => finish(ended(code, reason)),
    }
  }
}
