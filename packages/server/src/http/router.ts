import type { IncomingMessage, ServerResponse } from 'node:http'
import { errorCodes, type ErrorCode } from '@switchboard/protocol'

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>

/** Exact-path routes by method. Small on purpose; the HTTP API adds its routes here. */
export class Router {
  private readonly routes = new Map<string, Map<string, RouteHandler>>()

  add(method: string, path: string, handler: RouteHandler): this {
    let byMethod = this.routes.get(path)
    if (!byMethod) this.routes.set(path, (byMethod = new Map()))
    byMethod.set(method, handler)
    return this
  }

  /** Returns false when no route matches the path, so an embedding app can handle it. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const byMethod = this.routes.get(url.pathname)
    if (!byMethod) return false
    const handler = byMethod.get(req.method ?? 'GET') ?? (req.method === 'HEAD' ? byMethod.get('GET') : undefined)
    if (!handler) {
      res.setHeader('allow', [...byMethod.keys()].join(', '))
      sendError(res, 405, 'INVALID_MESSAGE', `method ${req.method} not allowed`)
      return true
    }
    Promise.resolve()
      .then(() => handler(req, res, url))
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

export function sendError(res: ServerResponse, status: number | undefined, code: ErrorCode, message: string): void {
  sendJson(res, status ?? errorCodes[code].http, { error: { code, message } })
}
