import { execFileSync } from 'node:child_process'
import { chromium, type Browser } from 'playwright-core'

/**
 * Debian's chromium (installed by .ci/run), headless, with the flags this sandboxed machine
 * needs. Fails, never skips, when chromium is missing.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? execFileSync('which', ['chromium']).toString().trim(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  })
}
