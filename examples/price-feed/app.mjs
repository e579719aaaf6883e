// The price-feed example as a module: `startPriceFeed()` runs the backend (hook receiver) and
// the server. server.mjs runs it from the command line; the test drives it directly.
import { fileURLToPath } from 'node:url'
import { createServer, loadConfigFile } from '@switchboard/server'
import { startBackend } from './backend.mjs'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))
/** Development secrets, used when the env vars are not set. Never use them in production. */
export const DEV_JWT_SECRET = 'price-feed-example-development-secret-0123456789'
export const DEV_HOOK_SECRET = 'price-feed-example-hook-secret'

/**
 * Starts the example. `overrides` is merged over examples/price-feed/switchboard.yaml (the test
 * uses it for port 0 and silent logs); `onEvent` hears the backend's verified hook events.
 */
export async function startPriceFeed(overrides = {}, onEvent = undefined) {
  const env = {
    ...process.env,
    FEED_JWT_SECRET: process.env.FEED_JWT_SECRET ?? DEV_JWT_SECRET,
    FEED_HOOK_SECRET: process.env.FEED_HOOK_SECRET ?? DEV_HOOK_SECRET,
  }
  const file = loadConfigFile(here('./switchboard.yaml'), env)
  const backend = await startBackend(env.FEED_HOOK_SECRET, onEvent)
  const config = {
    ...file,
    ...overrides,
    server: { ...file.server, ...overrides.server },
    hooks: { ...file.hooks, url: backend.url, ...overrides.hooks },
  }
  const server = createServer(config)
  const { url } = await server.listen()
  return {
    server,
    url,
    async close() {
      await server.close()
      await backend.close()
    },
  }
}
