// The voting example's page in headless Chromium: two browser viewers, one votes through the
// page (token pasted, button clicked), both see the tally change.
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../support/browser.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signDevelopmentToken } from '@switchboard/server'
import { startVoting } from '../../examples/voting/app.mjs'
import { waitFor } from '../support/wait.js'

let browser: Browser
let app: Awaited<ReturnType<typeof startVoting>>

beforeAll(async () => {
  app = await startVoting({ server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

const count = (page: Page, option: string) =>
  page.evaluate((o) => {
    for (const row of document.querySelectorAll('.row'))
      if (row.querySelector('b')?.textContent === o) return row.querySelector('span')?.textContent
    return null
  }, option)

describe('examples/voting in a browser', () => {
  it('a vote cast on one page shows up on every page', async () => {
    const [voterPage, viewerPage] = [await browser.newPage(), await browser.newPage()]
    for (const p of [voterPage, viewerPage]) await p.goto(`${app.url}/`)
    await waitFor(async () => (await count(viewerPage, 'salad')) === '0', 'the tally on the viewer page')
    await waitFor(
      async () => (await viewerPage.textContent('#watching')) === '2 watching',
      'both pages in the presence room',
    )

    await voterPage.fill('#token', await signDevelopmentToken(app.server.config, { user: 'browser-user' }))
    await voterPage.click('.row:has(b:text-is("salad")) button')
    await waitFor(async () => (await count(viewerPage, 'salad')) === '1', 'the vote on the viewer page')
    expect(await voterPage.textContent('#status')).toBe('you voted salad')

    await voterPage.click('.row:has(b:text-is("pizza")) button')
    await waitFor(async () => (await voterPage.textContent('#status'))?.startsWith('RPC_ERROR'), 'the refusal')
    expect(await count(viewerPage, 'pizza')).toBe('0')
  })
})
