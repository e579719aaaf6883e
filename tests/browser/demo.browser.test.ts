// The demo at / in headless Chromium, two windows side by side: what one does, the other sees.
// One window goes through a TCP proxy, so its connection can be cut; it recovers what it missed.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../support/browser.js'
import { Resources, type TestServer } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'

let browser: Browser
let srv: TestServer
let proxy: TcpProxy
const res = new Resources()
const problems: string[] = []
/** While the proxy refuses connections, the browser reports the refused attempts itself. */
let outage = false

beforeAll(async () => {
  srv = await res.server() // development mode: the demo is on, anonymous clients allowed
  proxy = res.add(await new TcpProxy(srv.port).start(), (p) => p.close())
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await res.cleanup()
})

async function open(base: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } })
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    // The browser itself logs each request the outage breaks (WebSocket, EventSource, fetch).
    if (outage && /net::ERR_|WebSocket connection to .* failed/.test(m.text())) return
    problems.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  await page.goto(`${base}/`)
  await page.waitForSelector('[data-state=connected]')
  return page
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents()
const votes = (page: Page, option: string) => page.textContent(`li[data-option="${option}"] .count`)

describe('the demo in two browser windows', () => {
  it('chat, todos, presence and votes made in one window appear in the other; a cut connection recovers', async () => {
    const a = await open(proxy.url)
    const b = await open(srv.url)

    // The header shows the transport in use.
    expect(await a.getAttribute('[data-transport]', 'data-transport')).toBe('websocket')

    // Presence: each window sees both people.
    await waitFor(async () => (await a.locator('ul.avatars li').count()) === 2, 'two people in window A')
    await waitFor(async () => (await b.locator('ul.avatars li').count()) === 2, 'two people in window B')

    // Chat.
    await a.fill('input[name=message]', 'hello from A')
    await a.press('input[name=message]', 'Enter')
    await waitFor(async () => (await texts(b, 'ol.messages li')).some((t) => t.includes('hello from A')), 'A → B')

    // The poll: a vote by RPC, the tally in a record, one vote per voter.
    await waitFor(async () => (await votes(b, 'pizza')) === '0', 'the poll in window B')
    await a.click('li[data-option="pizza"] button')
    await waitFor(async () => (await votes(b, 'pizza')) === '1', 'the vote in window B')

    // Todos: records shown through a live query (open todos, newest first).
    await a.fill('input[name=todo]', 'buy milk')
    await a.press('input[name=todo]', 'Enter')
    await waitFor(async () => (await texts(b, 'ul.todos li')).some((t) => t.includes('buy milk')), 'the todo in B')
    await b.fill('input[name=todo]', 'water plants')
    await b.press('input[name=todo]', 'Enter')
    const todos = () => b.locator('ul.todos li[data-todo]').evaluateAll((els) => els.map((e) => e.dataset.todo))
    await waitFor(async () => (await todos()).length === 2, 'two open todos')
    expect(await todos()).toEqual(['water plants', 'buy milk'])
    // Completed in A, it leaves the live query's list in B.
    await a.click('li[data-todo="buy milk"] input[type=checkbox]')
    await waitFor(async () => (await todos()).join() === 'water plants', 'the completed todo gone from B')

    // Cut A's connection and keep it out while B chats: A recovers the message it missed.
    outage = true
    proxy.down()
    proxy.cut()
    await a.waitForSelector('[data-state=reconnecting]')
    await b.fill('input[name=message]', 'sent while A was away')
    await b.press('input[name=message]', 'Enter')
    await waitFor(async () => (await texts(b, 'ol.messages li')).some((t) => t.includes('while A was away')), 'B')
    proxy.up()
    await a.waitForSelector('[data-state=connected]', { timeout: 15_000 })
    await waitFor(
      async () => (await texts(a, 'ol.messages li')).some((t) => t.includes('sent while A was away')),
      'the missed message recovered in window A',
    )
    outage = false
    const lines = await texts(a, 'ol.messages li')
    expect(lines.filter((t) => t.includes('hello from A'))).toHaveLength(1)
    expect(lines.filter((t) => t.includes('sent while A was away'))).toHaveLength(1)

    // A's presence comes back with its connection.
    await waitFor(async () => (await b.locator('ul.avatars li').count()) === 2, 'A back in the room')

    // The docs' screenshot, refreshed on request (UPDATE_SCREENSHOTS=1) so a test run leaves the tree clean.
    if (process.env.UPDATE_SCREENSHOTS) await b.screenshot({ path: 'docs/demo.png' })
    expect(problems, 'errors logged by the pages').toEqual([])
  })
})
