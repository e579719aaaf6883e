// SPEC §5: the minified browser bundle, all three transports in, stays under 16 KiB gzipped.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'

const BUNDLE = fileURLToPath(new URL('../../packages/client/dist/browser/switchboard.min.js', import.meta.url))
const BUDGET = 16 * 1024

describe('the browser bundle', () => {
  it('is under 16 KiB gzipped, with every transport in it', () => {
    const bundle = readFileSync(BUNDLE) // `npm run build` produced it
    const text = bundle.toString()
    // All three transports are in (their endpoints are the strings they cannot do without).
    for (const marker of ['/ws', '/connect', '/send', '/poll', '/sse']) expect(text).toContain(marker)
    // The default gzip level (6), what most servers and CDNs use; the server itself sends level 9.
    const gzipped = gzipSync(bundle).length
    expect(gzipped, `${gzipped} bytes gzipped`).toBeLessThan(BUDGET)
  })
})
