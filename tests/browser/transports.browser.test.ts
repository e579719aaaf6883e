// The browser bundle as the server serves it (/switchboard.min.js), in headless Chromium with its
// native WebSocket, EventSource and fetch: each transport forced, cross-origin (CORS), and the
// automatic fallback behind a real nginx that strips Upgrade.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../support/browser.js'
import { Nginx } from '../support/nginx.js'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

let browser: Browser
let page: http.Server
let pageOrigin = ''
const res = new Resources()

beforeAll(async () => {
  // The page lives on another origin than the server: every request is cross-origin.
  page = http.createServer((req, res) => {
    const script = new URL(req.url ?? '/', 'http://x').searchParams.get('script') ?? ''
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><script src="${script}"></script>`)
  })
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', r))
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`
  browser = await launchChromium()
})

afterEach(() => res.cleanup())
afterAll(async () => {
  await browser?.close()
  await new Promise<void>((r) => page?.close(() => r()) ?? r())
})

const server = () => res.server({ server: { cors: [pageOrigin] }, channels: { 'web/**': { history: { size: 10 } } } })

async function openTab(base: string): Promise<Page> {
  const tab = res.add(await browser.newPage(), (t) => t.close())
  const errors: string[] = []
  tab.on('pageerror', (e) => errors.push(e.message))
  await tab.goto(`${pageOrigin}/?script=${encodeURIComponent(`${base}/switchboard.min.js`)}`)
  await tab.waitForFunction(() => 'Switchboard' in window)
  expect(errors).toEqual([])
  return tab
}

/** Connects in the page; returns the transport it settled on. */
function connectInPage(tab: Page, base: string, transports?: string[]): Promise<string> {
  return tab.evaluate(
    async ([url, list]) => {
      const w = window as unknown as Record<string, any>
      const sb = new w.Switchboard.Switchboard(url, list ? { transports: list } : {})
      w.sb = sb
      w.received = []
      await sb.connect()
      await sb.subscribe('web/room', (d: unknown) => w.received.push(d)).ready
      await sb.rpc.provide('web/double', (n: number) => n * 2).ready
      return sb.transport
    },
    [base, transports] as const,
  )
}

/** A Node client and the page talk through the server both ways: channels, records, RPC. */
async function roundTrips(tab: Page, url: string) {
  const node = await res.connected(url)
  const fromPage: unknown[] = []
  await node.subscribe('web/room', (d) => fromPage.push(d)).ready
  await node.publish('web/room', { from: 'node' })
  const ack = await tab.evaluate(() => (window as any).sb.publish('web/room', { from: 'browser' }))
  expect(ack.offset).toBe(2)
  await waitFor(() => fromPage.length === 2, 'node to see both')
  await waitFor(async () => (await tab.evaluate(() => (window as any).received.length)) === 2, 'the page to see both')
  expect(await tab.evaluate(() => (window as any).received)).toEqual([{ from: 'node' }, { from: 'browser' }])
  expect(await node.rpc.call('web/double', 21)).toBe(42)
  await node.record('web/doc').set({ n: 1 })
  const seen = await tab.evaluate(async () => {
    const rec = (window as any).sb.record('web/doc')
    await rec.ready
    await rec.update({ increment: { n: 1 } })
    return rec.data
  })
  expect(seen).toEqual({ n: 2 })
}

describe('the served browser bundle in Chromium', () => {
  for (const transport of ['websocket', 'sse', 'longpoll']) {
    it(`works over ${transport} alone, cross-origin`, async () => {
      const { url, server: srv } = await server()
      const tab = await openTab(url)
      expect(await connectInPage(tab, url, [transport])).toBe(transport)
      await roundTrips(tab, url)
      // Closing the page's client ends its session on the server at once (no lingering ghost).
      const before = srv.connectionCount()
      await tab.evaluate(() => (window as any).sb.close())
      await waitFor(() => srv.connectionCount() === before - 1, 'the session to end')
    })
  }

  it('falls back on its own behind an nginx that strips Upgrade', async () => {
    const { url, port } = await server()
    const nginx = res.add(await Nginx.start('no-upgrade', port), (n) => n.stop())
    const tab = await openTab(nginx.url)
    expect(await connectInPage(tab, nginx.url)).toBe('sse')
    await roundTrips(tab, url)
  })
})
