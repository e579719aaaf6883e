import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { sendError, type Router } from './router.js'

export interface AttachOptions {
  /** Mount Switchboard under this path (e.g. `/realtime`: `/realtime/ws`, `/realtime/api/…`). Default: the root. */
  path?: string
}

export interface FrontDoorOptions {
  /** Every HTTP route of the server (paths relative to the mount). */
  readonly router: Router
  /** A WebSocket upgrade on `/ws` (relative to the mount). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Slowloris: a connection without complete headers after this long is cut. */
  readonly handshakeTimeoutMs: number
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void

/**
 * The listen queue (the kernel caps it at net.core.somaxconn). Node's default, 511, fills when a
 * draining node's clients arrive faster than a busy node accepts them (one per event-loop turn);
 * a connection beyond it is dropped and its client retries after 1 s, then 3 s.
 */
const LISTEN_BACKLOG = 4096

/**
 * Where HTTP meets the server: standalone (`listen`) or inside an app's own http(s) server
 * (`attach`), optionally under a path prefix. Attached, Switchboard's routes are answered before
 * the app's request listeners (Express, Fastify, Koa, …), and everything else passes through.
 */
export class FrontDoor {
  private own: HttpServer | undefined

  constructor(private readonly options: FrontDoorOptions) {}

  /** Handles a request if it is one of Switchboard's routes (under `prefix`); false otherwise. */
  handleRequest(req: IncomingMessage, res: ServerResponse, prefix = ''): boolean {
    return this.options.router.handle(req, res, prefix)
  }

  async listen(port: number, host: string): Promise<{ port: number; host: string; url: string }> {
    const headersTimeout = this.options.handshakeTimeoutMs
    const http = createHttpServer(
      {
        headersTimeout,
        requestTimeout: Math.max(headersTimeout, 30_000),
        connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
      },
      (req, res) => {
        if (!this.handleRequest(req, res)) sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${req.url}`)
      },
    )
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!this.routeUpgrade(req, socket, head, '')) socket.destroy()
    })
    this.own = http
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        http.off('error', reject)
        resolve()
      })
    })
    const address = http.address() as AddressInfo
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return { port: address.port, host: address.address, url: `http://${shownHost}:${address.port}` }
  }

  attach(server: HttpServer | HttpsServer, options: AttachOptions = {}): void {
    const prefix = normalisePrefix(options.path)
    // The app's listeners run only for requests that are not ours (as engine.io's attach does).
    const theirs = server.listeners('request') as RequestListener[]
    server.removeAllListeners('request')
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.handleRequest(req, res, prefix)) return
      for (const listener of theirs) listener.call(server, req, res)
    })
    // Other upgrade listeners (the app's own WebSocket servers) see the upgrades we do not take.
    server.prependListener('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Nobody else listens: an upgrade that is not ours would otherwise hang forever.
      if (!this.routeUpgrade(req, socket, head, prefix) && server.listenerCount('upgrade') === 1) socket.destroy()
    })
  }

  /** Waits for the standalone server's connections to end, then cuts what is left. */
  async close(timeoutMs: number): Promise<void> {
    const http = this.own
    if (!http) return
    const closed = new Promise<void>((resolve) => http.close(() => resolve()))
    http.closeIdleConnections()
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        http.closeAllConnections()
        resolve()
      }, timeoutMs)
    })
    await Promise.race([closed, timeout])
    clearTimeout(timer)
  }

  private routeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, prefix: string): boolean {
    const url = req.url ?? '/'
    const end = url.indexOf('?')
    const path = end === -1 ? url : url.slice(0, end)
    if (path !== `${prefix}/ws`) return false
    this.options.upgrade(req, socket, head)
    return true
  }
}

function normalisePrefix(path: string | undefined): string {
  if (!path || path === '/') return ''
  const withSlash = path.startsWith('/') ? path : `/${path}`
  return withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash
}
