import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import type { RouteHandler } from './router.js'
import { sendError } from './router.js'

export const BROWSER_BUNDLE_PATH = '/switchboard.min.js'

interface Asset {
  readonly body: Buffer
  readonly gzipped: Buffer
  readonly etag: string
  readonly type: string
}

/** Where the client package's browser build lives (`@switchboard/client/dist/browser/`). */
export function browserBuildDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('@switchboard/client/package.json')
    return path.join(path.dirname(pkg), 'dist', 'browser')
  } catch {
    return null
  }
}

/**
 * Serves one file of the client's browser build (the minified IIFE and its source map), read
 * and gzipped once, with a strong ETag (304 on a match) and an hour of caching: the URL carries
 * no version, so clients revalidate after a server upgrade.
 */
export function browserAsset(
  file: string,
  type: string,
  dir: string | null = browserBuildDir(),
  /** Where the source map is (sent as a `SourceMap` header: the bundle carries no comment for it). */
  sourceMap?: string,
): RouteHandler {
  let loading: Promise<Asset | null> | undefined
  const load = async (): Promise<Asset | null> => {
    if (!dir) return null
    const body = await readFile(path.join(dir, file)).catch(() => null)
    if (!body) return null
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
    return { body, gzipped: gzipSync(body, { level: 9 }), etag, type }
  }
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return sendError(res, 405, 'INVALID_MESSAGE', `method ${req.method} not allowed`)
    }
    loading ??= load()
    const asset = await loading
    if (!asset) {
      loading = undefined // built later (npm run build) without a restart: look again next time
      return sendError(res, 404, 'NOT_FOUND', `${file} is not built: run npm run build`)
    }
    const headers: Record<string, string | number> = {
      'content-type': asset.type,
      'cache-control': 'public, max-age=3600',
      etag: asset.etag,
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
    }
    if (sourceMap) headers['sourcemap'] = sourceMap
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
}
