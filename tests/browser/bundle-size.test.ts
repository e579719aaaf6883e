// SPEC §5: the minified browser bundle, all three transports in, stays under 16 KiB gzipped —
// measured as a browser gets it: GET /switchboard.min.js from a server, gzip accepted.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { Resources } from '../support/server.js'

const BUNDLE = fileURLToPath(new URL('../../packages/client/dist/browser/switchboard.min.js', import.meta.url))
const BUDGET = 16 * 1024

const res = new Resources()
afterEach(() => res.cleanup())

describe('the browser bundle', () => {
  it('is under 16 KiB gzipped as served, with every transport in it', async () => {
    const bundle = readFileSync(BUNDLE) // `npm run build` produced it
    // All three transports are in (their endpoints are strings they cannot do without).
    for (const marker of ['/ws', '/connect', '/send', '/poll', '/sse']) expect(bundle.toString()).toContain(marker)
    const { url } = await res.server()
    const served = await fetch(`${url}/switchboard.min.js`, { headers: { 'accept-encoding': 'gzip' } })
    expect(served.headers.get('content-encoding')).toBe('gzip')
    const gzipped = Number(served.headers.get('content-length'))
    await served.arrayBuffer()
    // The default gzip level (what a CDN may use instead) is reported beside it.
    const atLevel6 = gzipSync(bundle).length
    expect(gzipped, `${gzipped} bytes gzipped as served (${atLevel6} at gzip's default level)`).toBeLessThan(BUDGET)
  })
})
