#!/usr/bin/env node
// Runs the feed: node examples/price-feed/run-feeder.mjs <url> <feeder token>
import { Switchboard } from '@switchboard/client'
import { startFeeder } from './feeder.mjs'

const [url = 'http://127.0.0.1:7072', token] = process.argv.slice(2)
const sb = new Switchboard(url, { token })
sb.on('error', (e) => console.error(`${e.code}: ${e.message}`))
await sb.connect()
const feed = await startFeeder(sb)
console.log('feeding the watched symbols; Ctrl-C to stop')
setInterval(() => console.log(`feeding: ${[...feed.active()].join(', ') || '(nobody watches)'}`), 5000)
process.once('SIGINT', () =>
  feed
    .stop()
    .then(() => sb.close())
    .then(() => process.exit(0)),
)
