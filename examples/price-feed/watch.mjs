#!/usr/bin/env node
// Watches one symbol: node examples/price-feed/watch.mjs <url> <symbol>
import { Switchboard } from '@switchboard/client'

const [url = 'http://127.0.0.1:7072', symbol = 'AAPL'] = process.argv.slice(2)
const sb = new Switchboard(url)
await sb.connect()
sb.subscribe(`prices/${symbol}`, ({ price }) => console.log(`${symbol} ${price}`))
process.once('SIGINT', () => sb.close().then(() => process.exit(0)))
