#!/usr/bin/env node
// The record scenarios on their own (bench/run.mjs runs them with the rest):
//   node bench/records/run.mjs [--only record-fanout,record-writes]
//        [--servers deepstream,switchboard-sqlite,switchboard-postgres] [--duration 10] [--warmup 3]
//        [--record-subs 200] [--record-rate 100] [--record-workers 1] [--payload 100]
//        [--write-clients 100] [--write-records 1000] [--write-window 16] [--pin] [--nice 0]
//        [--profile] [--profile-dir /tmp/profiles]
import { parseOptions } from '../lib/options.mjs'
import { killAllChildren } from '../lib/ipc.mjs'
import { printRecordScenario, recordDefaults, recordScenarios } from './scenarios.mjs'

const opts = parseOptions({
  only: Object.keys(recordScenarios).join(','),
  servers: 'deepstream,switchboard-sqlite,switchboard-postgres',
  duration: 10,
  warmup: 3,
  payload: 100,
  pin: false,
  nice: 0,
  profile: false,
  'profile-dir': '/tmp/profiles',
  ...recordDefaults,
})
process.on('exit', killAllChildren)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

for (const name of opts.only.split(',')) {
  const sc = recordScenarios[name]
  if (!sc) throw new Error(`unknown scenario ${name}`)
  const keys = opts.servers.split(',').filter((k) => sc.servers.includes(k))
  const results = {}
  for (const key of keys) {
    process.stdout.write(`  ${name} / ${key} ... `)
    try {
      results[key] = await sc.run(opts, key)
      console.log('done')
    } catch (err) {
      results[key] = { error: String(err?.message ?? err) }
      console.log(`FAILED: ${results[key].error.split('\n')[0]}`)
    }
  }
  printRecordScenario(name, opts, keys, results)
}
process.exit(0)
