import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Authenticator, AuthUser } from '../auth/authenticator.js'
import { SwitchboardError, toSwitchboardError } from '../errors.js'
import type { RequestsPerIp } from '../limits/requests-per-ip.js'
import type { ServerCounters } from '../metrics/counters.js'
import { readJsonBody } from './body.js'
import { applyCors } from './cors.js'
import { authenticateRequest } from './request-auth.js'
import { sendRefusal } from './refuse.js'
import { type RouteHandler } from './router.js'

/** What every HTTP API route shares. */
export interface ApiDeps {
  authenticator: Authenticator
  /** server.cors */
  cors: readonly string[]
  /** limits.maxMessageBytes: the largest request body. */
  maxBodyBytes: number
  /** False while starting or draining: requests get 503 UNAVAILABLE. */
  accepting: () => boolean
  /** Per-address request rate (limits.messagesPerSecond / messagesBurst); over it: 429. */
  rate: RequestsPerIp
  /** Counted per route and status class for /metrics. */
  counters: ServerCounters
  /** The client's address (X-Forwarded-For from trusted proxies only). */
  clientAddress(req: IncomingMessage): string
}

/** One API request, authenticated. */
export interface ApiRequest {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  /** The caller: a JWT user, the trusted backend user (API key), or null (anonymous). */
  user: AuthUser | null
  /** The JSON body (TOO_LARGE past maxMessageBytes, INVALID_MESSAGE if it is not JSON). */
  body(): Promise<unknown>
}

/**
 * Wraps an API route: CORS (and preflights), 503 while not running, a per-address request
 * rate (429), the Bearer token through
 * the Authenticator, 405 for other methods, and every failure as `{ error: { code, message } }`
 * with the error code's HTTP status, never a stack trace.
 */
export function apiRoute(
  deps: ApiDeps,
  /** The route family in metrics: `records`, `publish`, … */
  route: string,
  methods: readonly string[],
  handle: (r: ApiRequest) => Promise<void>,
): RouteHandler {
  const allowed = [...methods, 'OPTIONS'].join(', ')
  return async (req, res, url) => {
    res.once('finish', () => {
      const key = `${route} ${Math.floor(res.statusCode / 100)}xx`
      deps.counters.http[key] = (deps.counters.http[key] ?? 0) + 1
    })
    if (applyCors(req, res, deps.cors, allowed)) return
    try {
      if (!methods.includes(req.method ?? '') && !(req.method === 'HEAD' && methods.includes('GET'))) {
        res.setHeader('allow', allowed)
        return sendRefusal(req, res, 405, 'INVALID_MESSAGE', `method ${req.method} not allowed`)
      }
      if (!deps.accepting()) throw new SwitchboardError('UNAVAILABLE', 'the server is starting or shutting down')
      // Before authentication: verifying tokens is the work a flood would make the server do.
      const address = deps.clientAddress(req)
      if (!deps.rate.take(address)) {
        res.setHeader('retry-after', '1')
        throw new SwitchboardError('RATE_LIMITED', 'too many requests from this address; slow down')
      }
      const user = await authenticateRequest(req, deps.authenticator, address)
      await handle({ req, res, url, user, body: () => readJsonBody(req, deps.maxBodyBytes) })
    } catch (err) {
      const e = toSwitchboardError(err)
      // Also before the body was read (TOO_LARGE, 401, 429 …): answered, then closed gracefully.
      sendRefusal(req, res, undefined, e.code, e.message, e.data)
    }
  }
}

/** The part of `url.pathname` after `prefix`, percent-decoded; INVALID_NAME when empty. */
export function nameAfter(pathname: string, prefix: string, what: string, suffix = ''): string {
  let name: string
  try {
    name = decodeURIComponent(pathname.slice(prefix.length, pathname.length - suffix.length))
  } catch {
    throw new SwitchboardError('INVALID_NAME', `the ${what} name is not valid percent-encoding`)
  }
  if (name === '') throw new SwitchboardError('INVALID_NAME', `a ${what} name is required`)
  return name
}
