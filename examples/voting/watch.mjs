#!/usr/bin/env node
// Shows the tally live, and how many are watching: node examples/voting/watch.mjs <url> [poll]
import { Switchboard } from '@switchboard/client'

const [url = 'http://127.0.0.1:7071', poll = 'lunch'] = process.argv.slice(2)
const sb = new Switchboard(url)
await sb.connect()
let watching = 0
let votes = {}
const show = () => {
  const line = Object.entries(votes)
    .map(([o, n]) => `${o} ${n}`)
    .join('  ')
  console.log(`${new Date().toLocaleTimeString()}  ${line}   (${watching} watching)`)
}
sb.record(`polls/${poll}`).subscribe((data) => {
  votes = data?.votes ?? {}
  show()
})
const room = sb.presence(`polls/${poll}`)
await room.join()
room.subscribeCount((n) => {
  watching = n
  show()
})
process.once('SIGINT', () => sb.close().then(() => process.exit(0)))
