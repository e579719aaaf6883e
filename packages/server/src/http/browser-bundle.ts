import { createRequire } from 'node:module'
import path from 'node:path'
import type { RouteHandler } from './router.js'
import { StaticSite } from './static-site.js'

export const BROWSER_BUNDLE_PATH = '/switchboard.min.js'

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
 * Serves the client's browser build (the minified IIFE and its source map) the way the pages
 * are served: read and gzipped once, a strong ETag (304 on a match), and an hour of caching —
 * the URL carries no version, so clients revalidate after a server upgrade. `sourceMap` is sent
 * as a `SourceMap` header: the bundle carries no comment for it.
 */
export function browserAssets(site: StaticSite = new StaticSite(browserBuildDir())): {
  bundle: RouteHandler
  sourceMap: RouteHandler
} {
  const caching = { 'cache-control': 'public, max-age=3600' }
  return {
    bundle: site.file('switchboard.min.js', { ...caching, sourcemap: 'switchboard.min.js.map' }),
    sourceMap: site.file('switchboard.min.js.map', caching),
  }
}
