// A load-generator process of rolling-deploy.mjs: `count` SDK clients (recover: true, all the
// nodes' URLs, each list rotated to start at a different node), client i subscribed to
// roll/feed-(i % channels), each with
// its ledger (what it received) and its timeline (drops, recoveries, connects) on the wall clock
// (performance.timeOrigin + now), so the parent can line it up with its own. IPC: start, collect.
import { performance } from 'node:perf_hooks'
import { Switchboard } from '@switchboard/client'
import { serveIpc } from '../lib/ipc.mjs'
import { sleep } from './stats.mjs'

const wall = () => performance.timeOrigin + performance.now()
const clients = []
const connects = []
const errors = {}

serveIpc({
  async start({ urls, count, offset, transports, channels = 1 }) {
    for (let i = offset; i < offset + count; i++) {
      const k = i % urls.length
      const sb = new Switchboard([...urls.slice(k), ...urls.slice(0, k)], transports ? { transports } : {})
      const c = { sb, channel: i % channels, got: [], drops: [], recoveries: [], connected: [], errors: [] }
      // Refusals while nodes restart are part of the test; the ledger judges. Counted, to see
      // where a slow move lost its time.
      sb.on('error', (e) => {
        errors[e.code] = (errors[e.code] ?? 0) + 1
        c.errors.push(wall())
      })
      sb.on('state', (s) => {
        if (s === 'reconnecting') c.drops.push(wall())
        if (s === 'connected') {
          connects.push(wall())
          c.connected.push(wall())
        }
      })
      clients.push(c)
    }
    // Connect in batches: the nodes admit 500 a second, and a refused client backs off.
    for (let i = 0; i < clients.length; i += 100)
      await Promise.all(clients.slice(i, i + 100).map((c) => c.sb.connect()))
    await Promise.all(
      clients.map((c) => {
        const sub = c.sb.subscribe(`roll/feed-${c.channel}`, (d) => c.got.push(d), { recover: true })
        sub.on('recovered', () => c.recoveries.push(wall()))
        return sub.ready
      }),
    )
    return clients.length
  },
  /**
   * Waits (at most `timeoutMs`) until every client has every acknowledged publication of its
   * channel (`acked[k]`: the values acknowledged on channel k, ascending), then reports. Exact:
   * each of them once, in order (a refused publication may or may not have gone out).
   */
  async collect({ acked, timeoutMs }) {
    const until = Date.now() + timeoutMs
    const want = (c) => acked[c.channel]
    while (Date.now() < until && !clients.every((c) => c.got.length >= want(c).length)) await sleep(100)
    const exactly = (c) => {
      const got = new Set(c.got)
      return c.got.every((x, i) => i === 0 || x > c.got[i - 1]) && want(c).every((x) => got.has(x))
    }
    const exact = clients.filter(exactly).length
    const report = {
      exact,
      stranded: clients.filter((c) => c.sb.state !== 'connected').length,
      onFallback: clients.filter((c) => c.sb.transport !== null && c.sb.transport !== 'websocket').length,
      timelines: clients.map(({ drops, recoveries, connected, errors }) => ({ drops, recoveries, connected, errors })),
      connects,
      errors,
    }
    await Promise.all(clients.map((c) => c.sb.close()))
    return report
  },
})
process.send?.({ type: 'ready' })
