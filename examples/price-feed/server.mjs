#!/usr/bin/env node
// Runs the price-feed example: node examples/price-feed/server.mjs (after `npm run build`).
import { DEV_JWT_SECRET, startPriceFeed } from './app.mjs'

const { url, close } = await startPriceFeed()
const secret = process.env.FEED_JWT_SECRET ? '' : `FEED_JWT_SECRET=${DEV_JWT_SECRET} `
console.log(`price-feed example on ${url}; hook events are printed below`)
console.log(
  `  feeder token: ${secret}npx switchboard token --user feeder --claims '{"roles":["feeder"]}' --config examples/price-feed/switchboard.yaml`,
)
console.log(`  run the feed: node examples/price-feed/run-feeder.mjs ${url} <token>`)
console.log(`  watch:        node examples/price-feed/watch.mjs ${url} AAPL`)
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => close().then(() => process.exit(0)))
