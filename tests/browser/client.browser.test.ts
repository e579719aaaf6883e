import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { launchChromium } from '../support/browser.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const BUNDLE = fileURLToPath(new URL('../../packages/client/dist/browser/switchboard.min.js', import.meta.url))

let browser: Browser
let page: http.Server
let pageUrl = ''
const res = new Resources()

beforeAll(async () => {
  const bundle = readFileSync(BUNDLE, 'utf8') // `npm run build` produced it
  page = http.createServer((req, res) => {
    if (req.url === '/switchboard.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
    } else {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><script src="/switchboard.min.js"></script>')
    }
  })
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', r))
  pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`
  browser = await launchChromium()
})

afterEach(() => res.cleanup())
afterAll(async () => {
  await browser?.close()
  await new Promise<void>((r) => page?.close(() => r()) ?? r())
})

describe('the browser bundle in headless Chromium', () => {
  it('has no Node-only imports', () => {
    const bundle = readFileSync(BUNDLE, 'utf8')
    expect(bundle).not.toMatch(/require\(["'](ws|node:[a-z]+|net|http|crypto)["']\)/)
    expect(bundle).not.toMatch(/from ?["'](ws|node:[a-z]+)["']/)
  })

  it('connects with the browser WebSocket, subscribes, publishes and receives from a Node client', async () => {
    const { url } = await res.server({ channels: { 'web/**': { history: { size: 10 } } } })
    const tab = await browser.newPage()
    try {
      await tab.goto(pageUrl)
      await tab.evaluate(async (serverUrl) => {
        const w = window as unknown as Record<string, any>
        const sb = new w.Switchboard.Switchboard(serverUrl)
        w.received = []
        await sb.connect()
        const sub = sb.subscribe('web/room', (data: unknown) => w.received.push(data))
        await sub.ready
        w.sb = sb
      }, url)
      const node = await res.connected(url)
      const fromBrowser: unknown[] = []
      await node.subscribe('web/room', (d) => fromBrowser.push(d)).ready
      await node.publish('web/room', { from: 'node' })
      const ack = await tab.evaluate(() => (window as any).sb.publish('web/room', { from: 'browser' }))
      expect(ack.offset).toBe(2)
      await waitFor(() => fromBrowser.length === 2, 'node to see both')
      await waitFor(
        async () => (await tab.evaluate(() => (window as any).received.length)) === 2,
        'the page to see both',
      )
      expect(await tab.evaluate(() => (window as any).received)).toEqual([{ from: 'node' }, { from: 'browser' }])
      const state = await tab.evaluate(() => (window as any).sb.state)
      expect(state).toBe('connected')
      await tab.evaluate(() => (window as any).sb.close())
    } finally {
      await tab.close()
    }
  })
})
