// The admin view at /admin in headless Chromium: it shows nothing without credentials, lists a
// connection the test made (with its transport) once an API key is given, and its Disconnect
// button disconnects that client.
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../support/browser.js'
import { hsToken, SECRET } from '../support/jwt.js'
import { Resources, type TestServer } from '../support/server.js'
import { nextEvent, waitFor } from '../support/wait.js'

const API_KEY = 'admin-browser-test-key-0123456789-abcdef'

let browser: Browser
let srv: TestServer
const res = new Resources()
const pages: Page[] = []
let problems: string[] = []

beforeAll(async () => {
  srv = await res.server({ auth: { anonymous: true, jwt: { secret: SECRET }, apiKeys: [API_KEY] } })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await res.cleanup()
})

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close()
  expect(problems, 'errors logged by the page').toEqual([])
  problems = []
})

/** A page that records console errors, failed requests and uncaught exceptions. */
async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1180, height: 860 } })
  pages.push(page)
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`))
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  await page.goto(`${srv.url}${path}`)
  return page
}

const connectionRow = (page: Page, client: string) => page.locator(`tr[data-client="${client}"]`)

describe('the admin view in a browser', () => {
  it('is served with a strict CSP, revalidated, and its assets cached for good', async () => {
    const page = await fetch(`${srv.url}/admin`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(page.headers.get('cache-control')).toBe('no-cache')
    const html = await page.text()
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    expect(script).toBeDefined()
    const asset = await fetch(`${srv.url}${script}`)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    const etag = asset.headers.get('etag') as string
    expect((await fetch(`${srv.url}${script}`, { headers: { 'if-none-match': etag } })).status).toBe(304)
    expect((await fetch(`${srv.url}/assets/..%2Fadmin.html`)).status).toBe(404)
  })

  it('shows nothing of other clients without credentials, and refuses a non-admin JWT', async () => {
    const other = await res.connected(srv.url, { token: await hsToken('carol') })
    const page = await open('/admin')
    await page.waitForSelector('input[name=credential]')
    expect(await page.textContent('body')).not.toContain(other.clientId)
    expect(await page.locator('section[aria-label=Connections]').count()).toBe(0)

    await page.fill('input[name=credential]', await hsToken('bob', { roles: ['member'] }))
    await page.click('button[type=submit]')
    await page.waitForSelector('text=This credential is not an admin')
    expect(await page.textContent('body')).not.toContain(other.clientId)
  })

  it('lists a connection with its transport, live, and disconnects it', async () => {
    const page = await open('/admin')
    await page.fill('input[name=credential]', API_KEY)
    await page.click('button[type=submit]')
    await page.waitForSelector('section[aria-label=Connections]')

    // Connected after the page loaded: they appear without a reload (pushed on the live channel),
    // each with the transport it uses.
    const viaSse = await res.connected(srv.url, { transports: ['sse'] })
    const victim = await res.connected(srv.url, { token: await hsToken('victim'), transports: ['longpoll'] })
    await victim.subscribe('chat/lobby', () => {}).ready
    const row = connectionRow(page, victim.clientId as string)
    await waitFor(async () => (await row.count()) === 1, 'the test client listed')
    expect(await row.locator('[data-field=transport]').textContent()).toBe('longpoll')
    const sseRow = connectionRow(page, viaSse.clientId as string)
    await waitFor(async () => (await sseRow.count()) === 1, 'the SSE client listed')
    expect(await sseRow.locator('[data-field=transport]').textContent()).toBe('sse')
    await waitFor(async () => (await row.textContent())?.includes('chat/lobby'), 'its subscription')

    // The credential survives a reload of the tab.
    await page.reload()
    await page.waitForSelector(`tr[data-client="${victim.clientId}"]`)
    // The docs' screenshot, refreshed on request (UPDATE_SCREENSHOTS=1) so a test run leaves the tree clean.
    if (process.env.UPDATE_SCREENSHOTS) await page.screenshot({ path: 'docs/admin.png' })

    victim.on('error', () => {}) // the terminal close is reported; expected here
    const closed = nextEvent<string>((fn) => victim.on('state', fn), 'the victim closed')
    await row.locator('button', { hasText: 'Disconnect' }).click()
    expect(await closed).toBe('closed')
    await waitFor(async () => (await row.count()) === 0, 'the row gone')
  })
})
