import type { IncomingMessage, ServerResponse } from 'node:http'
import { errorCodes, type ErrorCode } from '@switchboard/protocol'

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>

/**
 * Exact-path routes by method, plus prefix routes (`/api/records/` + a name) whose handler
 * sees every method. Small on purpose; the HTTP API adds its routes here.
 */
export class Router {
  private readonly routes = new Map<string, Map<string, RouteHandler>>()
  private readonly prefixes: [prefix: string, handler: RouteHandler][] = []

  addPrefix(prefix: string, handler: RouteHandler): this {
    this.prefixes.push([prefix, handler])
    return this
  }

  /** `method` '*': the handler takes every method (it answers 405 itself). */
  add(method: string, path: string, handler: RouteHandler): this {
    let byMethod = this.routes.get(path)
    if (!byMethod) this.routes.set(path, (byMethod = new Map()))
    byMethod.set(method, handler)
    return this
  }

  /**
   * Returns false when no route matches the path, so an embedding app can handle it. With a
   * `prefix` (the mount path), only paths under it are considered and routes see them without it.
   */
  handle(req: IncomingMessage, res: ServerResponse, prefix = ''): boolean {
    const raw = req.url ?? '/'
    if (prefix && !(raw.startsWith(prefix) && (raw.length === prefix.length || '/?'.includes(raw[prefix.length]!)))) {
      return false
    }
    let url: URL
    try {
      url = new URL(raw.slice(prefix.length) || '/', 'http://localhost')
    } catch {
      sendError(res, 400, 'INVALID_MESSAGE', 'invalid request URL')
      return true
    }
    const byMethod = this.routes.get(url.pathname)
    let handler: RouteHandler | undefined
    if (byMethod) {
      handler =
        byMethod.get(req.method ?? 'GET') ??
        (req.method === 'HEAD' ? byMethod.get('GET') : undefined) ??
        byMethod.get('*')
      if (!handler) {
        res.setHeader('allow', [...byMethod.keys()].join(', '))
        sendError(res, 405, 'INVALID_MESSAGE', `method ${req.method} not allowed`)
        return true
      }
    } else {
      handler = this.prefixes.find(([prefix]) => url.pathname.startsWith(prefix))?.[1]
      if (!handler) return false
    }
    const route = handler
    Promise.resolve()
      .then(() => route(req, res, url))
      .catch(() => {
        if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'internal server error')
        else res.destroy()
      })
    return true
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

export function sendError(
  res: ServerResponse,
  status: number | undefined,
  code: ErrorCode,
  message: string,
  data?: unknown,
): void {
  const retryAfterMs = (data as { retryAfterMs?: unknown } | undefined)?.retryAfterMs
  if (typeof retryAfterMs === 'number' && !res.headersSent) res.setHeader('retry-after', Math.ceil(retryAfterMs / 1000))
  sendJson(res, status ?? errorCodes[code].http, errorBody(code, message, data))
}

/** The body of every HTTP error: `{ error: { code, message, data? } }`. */
export function errorBody(code: ErrorCode, message: string, data?: unknown): { error: Record<string, unknown> } {
  return { error: data === undefined ? { code, message } : { code, message, data } }
}
