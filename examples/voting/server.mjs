#!/usr/bin/env node
// Runs the voting example: node examples/voting/server.mjs (after `npm run build`).
import { DEV_SECRET, POLL, startVoting } from './app.mjs'

const { url, close } = await startVoting()
const usingDevSecret = !process.env.VOTING_JWT_SECRET
console.log(`voting example on ${url}  (poll: polls/${POLL.name})`)
console.log(`  open ${url} in a browser, or watch from a terminal: node examples/voting/watch.mjs ${url}`)
console.log(
  `  get a token:  ${usingDevSecret ? `VOTING_JWT_SECRET=${DEV_SECRET} ` : ''}npx switchboard token --user alice --config examples/voting/switchboard.yaml`,
)
console.log(`  vote:         node examples/voting/vote.mjs ${url} <token> pizza`)
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => close().then(() => process.exit(0)))
