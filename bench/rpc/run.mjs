#!/usr/bin/env node
// The RPC and presence scenarios on their own (bench/run.mjs runs them with the rest):
//   node bench/rpc/run.mjs [--only rpc,presence] [--servers ws,socketio,deepstream,switchboard]
//                          [--duration 10] [--rpc-calls 2000] [--rpc-inflight 100]
//                          [--presence-members 1000] [--presence-rate 1] [--payload 100] [--pin]
import { parseOptions } from '../lib/options.mjs'
import { killAllChildren } from '../lib/ipc.mjs'
import { rpcDefaults, rpcScenarios } from './scenarios.mjs'

const opts = parseOptions({
  only: 'rpc,presence',
  servers: 'ws,socketio,deepstream,switchboard',
  duration: 10,
  payload: 100,
  pin: false,
  nice: 0,
  ...rpcDefaults,
})
process.on('exit', killAllChildren)
const labels = { ws: 'raw ws', socketio: 'socket.io', deepstream: 'deepstream', switchboard: 'Switchboard' }
const fmt = (v, d) =>
  typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-'

for (const name of opts.only.split(',')) {
  const sc = rpcScenarios[name]
  const keys = opts.servers.split(',').filter((k) => sc.servers.includes(k))
  const results = {}
  for (const key of keys) {
    process.stdout.write(`  ${name} / ${labels[key]} ... `)
    try {
      results[key] = await sc.run(opts, key)
      console.log('done')
    } catch (err) {
      results[key] = { error: String(err?.message ?? err) }
      console.log(`FAILED: ${results[key].error.split('\n')[0]}`)
    }
  }
  console.log(`\n== ${sc.title(opts)}`)
  console.log('metric'.padEnd(42) + keys.map((k) => labels[k].padStart(13)).join(''))
  for (const [label, key, d] of sc.rows)
    console.log(label.padEnd(42) + keys.map((k) => fmt(results[k]?.[key], d).padStart(13)).join(''))
  for (const t of sc.targets) {
    const sb = results.switchboard?.[t.key]
    if (t.limit !== undefined) {
      console.log(
        `  target: ${t.key} <= ${t.limit}: ${fmt(sb, 0)} ${typeof sb === 'number' ? (sb <= t.limit ? 'MET' : 'MISSED') : 'n/a'}`,
      )
    } else {
      const base = results[t.vs]?.[t.key]
      const r = typeof sb === 'number' && typeof base === 'number' ? sb / base : null
      console.log(
        `  target: ${t.label ?? `${t.key} <= ${t.max.toFixed(2)}x ${labels[t.vs]}`}: ${r === null ? '-' : r.toFixed(2) + 'x'} ${r === null ? 'n/a' : r <= t.max ? 'MET' : 'MISSED'}`,
      )
    }
  }
  for (const k of keys) if (results[k]?.error) console.log(`  ${labels[k]}: ERROR ${results[k].error.split('\n')[0]}`)
  console.log()
}
process.exit(0)
