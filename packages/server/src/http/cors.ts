import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * CORS for the HTTP API (`server.cors`: allowed origins, `*` for any). A request from an
 * allowed origin gets `Access-Control-Allow-Origin`; a preflight (`OPTIONS`) is answered here.
 * Returns true when the request was a preflight and has been answered.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  origins: readonly string[],
  methods: string,
  /** Request headers a preflight allows. */
  headers = 'Authorization, Content-Type, If-Match',
): boolean {
  const origin = req.headers.origin
  const allowed = origin !== undefined && (origins.includes('*') || origins.includes(origin))
  res.setHeader('vary', 'Origin')
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin)
    res.setHeader('access-control-expose-headers', 'ETag')
  }
  if (req.method !== 'OPTIONS') return false
  if (allowed) {
    res.setHeader('access-control-allow-methods', methods)
    res.setHeader('access-control-allow-headers', headers)
    res.setHeader('access-control-max-age', '600')
  }
  res.writeHead(allowed ? 204 : 403).end()
  return true
}
