#!/usr/bin/env node
// Casts one vote by RPC: node examples/voting/vote.mjs <url> <token> <option> [poll]
import { Switchboard } from '@switchboard/client'

const [url, token, option, poll = 'lunch'] = process.argv.slice(2)
if (!url || !token || !option) {
  console.error('usage: node examples/voting/vote.mjs <url> <token> <option> [poll]')
  process.exit(2)
}
const sb = new Switchboard(url, { token })
try {
  await sb.connect()
  const result = await sb.rpc.call('polls/vote', { poll, option }, { timeoutMs: 5000 })
  console.log(`voted ${result.option} as ${sb.user?.id} (poll version ${result.version})`)
} catch (err) {
  console.error(`vote refused: ${err.code}: ${err.message}`)
  process.exitCode = 1
} finally {
  await sb.close()
}
