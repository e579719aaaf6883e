import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { RouteHandler, Router } from './router.js'
import { sendError } from './router.js'

/**
 * Where `npm run build` puts the demo and admin pages (packages/server/dist/web), or null where
 * modules do not come from files (a bundler, a DOM test environment): then nothing is served.
 */
export function webBuildDir(): string | null {
  const url = new URL('../../dist/web/', import.meta.url)
  return url.protocol === 'file:' ? fileURLToPath(url) : null
}
/** Built assets carry a content hash in their names: cached for good. */
export const WEB_ASSETS_PREFIX = '/assets/'

/**
 * The pages' policy: scripts, styles and connections from this origin only; no inline
 * script, no plugins, no framing, no forms posting elsewhere.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
}

interface Asset {
  body: Buffer
  gzipped: Buffer
  etag: string
}

/**
 * Serves the built pages: `page(file)` answers one HTML page (revalidated on every visit,
 * strong ETag, the CSP above), `assets()` the hashed files under /assets/ (a year, immutable).
 * Files are read and gzipped once; a missing build answers 404 and is looked for again later.
 */
export class StaticSite {
  private readonly cache = new Map<string, Promise<Asset | null>>()

  constructor(private readonly dir: string | null = webBuildDir()) {}

  page(file: string): RouteHandler {
    return (req, res) =>
      this.serve(req, res, file, {
        'cache-control': 'no-cache',
        'content-security-policy': PAGE_CSP,
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      })
  }

  assets(): RouteHandler {
    return (req, res, url) => {
      const name = url.pathname.slice(WEB_ASSETS_PREFIX.length)
      // Built names only: no directories, no dot files, nothing to traverse with.
      if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.(js|css|map|png|svg)$/.test(name))
        return sendError(res, 404, 'NOT_FOUND', 'no such asset')
      return this.serve(req, res, `assets/${name}`, { 'cache-control': 'public, max-age=31536000, immutable' })
    }
  }

  /** One built file with its own caching headers (e.g. the client bundle at /switchboard.min.js). */
  file(file: string, extra: Record<string, string>): RouteHandler {
    return (req, res) => this.serve(req, res, file, extra)
  }

  private async serve(
    req: Parameters<RouteHandler>[0],
    res: Parameters<RouteHandler>[1],
    file: string,
    extra: Record<string, string>,
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return sendError(res, 405, 'INVALID_MESSAGE', `method ${req.method} not allowed`)
    }
    let loading = this.cache.get(file)
    if (!loading) this.cache.set(file, (loading = this.load(file)))
    const asset = await loading
    if (!asset) {
      this.cache.delete(file)
      return sendError(res, 404, 'NOT_FOUND', `${file} is not built: run npm run build`)
    }
    const headers: Record<string, string | number> = {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      etag: asset.etag,
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
      ...extra,
    }
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers)
      return void res.end()
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
    const body = gzip ? asset.gzipped : asset.body
    if (gzip) headers['content-encoding'] = 'gzip'
    headers['content-length'] = body.length
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  private async load(file: string): Promise<Asset | null> {
    if (this.dir === null) return null
    const body = await readFile(path.join(this.dir, file)).catch(() => null)
    if (!body) return null
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
    return { body, gzipped: gzipSync(body, { level: 9 }), etag }
  }
}

/**
 * Adds the built-in pages to the router, once: the demo at `/` and the admin view at `/admin`
 * (with /assets/). Standalone (`listen`) they follow their config; inside an app's own server
 * (`attach`, `handleRequest`), whose `/`, `/admin` and `/assets/` are the app's, only when the
 * config turned them on explicitly.
 */
export function pageMounter(
  router: Router,
  site: StaticSite,
  pages: { demo: boolean; admin: boolean },
  explicit: { demo: boolean; admin: boolean },
): (embedded: boolean) => void {
  let mounted = false
  return (embedded) => {
    if (mounted) return
    mounted = true
    const demo = pages.demo && (!embedded || explicit.demo)
    const admin = pages.admin && (!embedded || explicit.admin)
    if (demo) router.add('GET', '/', site.page('demo.html'))
    if (admin) router.add('GET', '/admin', site.page('admin.html'))
    if (demo || admin) router.addPrefix(WEB_ASSETS_PREFIX, site.assets())
  }
}
