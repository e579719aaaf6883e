/**
 * Chaos soak of a cluster of processes: three `switchboard start` nodes on a redis-server of the
 * test's own (AOF, fsync on every write, so a restart keeps what it acknowledged) and sharing
 * PostgreSQL record storage; clients on all three transports, each knowing every node through its
 * own TCP proxies. Besides the link faults of chaos.test.ts (cuts, latency, black holes, links
 * down), the schedule `kill -9`s a node (started again on its port) and kills and restarts Redis,
 * in turn. The ledger is the same: nothing acknowledged lost, nothing delivered twice, every
 * channel in order everywhere, records converged.
 *
 *   CHAOS_SECONDS=600 CHAOS_SEED=$RANDOM npx vitest run tests/soak/chaos-cluster.test.ts   # a long run
 *
 * CI runs 45 s with the default seed (two node crashes, two Redis restarts). Needs `npm run
 * build` (the nodes are the built CLI), redis-server and PostgreSQL.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { CliServer } from '../support/cli-server.js'
import { ClusterNodes } from '../support/cluster-nodes.js'
import { scratchSchema } from '../support/postgres.js'
import { OwnRedis, uniquePrefix } from '../support/redis.js'
import { Resources } from '../support/server.js'
import {
  checkLedger,
  healLinks,
  proxiedActors,
  linkFault,
  pace,
  SEED,
  seeded,
  startWorkload,
  TRANSPORTS,
  undoable,
} from './chaos-ledger.js'

const SECONDS = Number(process.env.CHAOS_SECONDS ?? 45)
const CLIENTS = 6
const NODES = 3

const res = new Resources()
afterEach(() => res.cleanup(), 60_000)

describe('chaos soak of a cluster', () => {
  it(
    `${SECONDS} s of link faults, kill -9 of nodes and Redis restarts (seed ${SEED}): nothing acknowledged lost or doubled, order kept, records converged`,
    { timeout: (SECONDS + 180) * 1000 },
    async () => {
      const random = seeded(SEED)
      const redis = res.add(await OwnRedis.start(['--appendonly', 'yes', '--appendfsync', 'always']), (r) =>
        r.destroy(),
      )
      const schema = res.add(await scratchSchema(), (s) => s.drop())
      const cluster = res.add(
        new ClusterNodes({
          redis: { url: redis.url },
          prefix: uniquePrefix(),
          postgresUrl: schema.url,
          nodeTimeout: '2s',
          config: {
            channels: { 'chaos/*': { history: { size: 1_000_000, ttl: '10m' } } },
            // Dead links are found within two seconds, so a black hole costs seconds, not the default 30.
            server: { heartbeat: { intervalMs: 500, timeoutMs: 2000 } },
            limits: { maxConnectionsPerIp: 0, messagesPerSecond: 10_000 },
          },
        }),
        (c) => c.stop(),
      )
      await cluster.startMany(NODES)
      const port = (n: CliServer) => Number(new URL(n.url).port)
      // Each client's list starts at another node.
      const actors = await proxiedActors(res, cluster.nodes.map(port), CLIENTS, (i, urls) =>
        urls.map((_, k) => urls[(i + k) % NODES]!),
      )

      // One at a time, the app retries refused publishes (UNAVAILABLE while Redis is down).
      const workload = startWorkload(actors, 1)
      const tally: Record<string, number> = {}
      const faults = undoable()
      const end = Date.now() + SECONDS * 1000
      let chaos = true

      // Process faults, in turn, every few seconds: a node crashes (kill -9) and comes back on
      // its port; Redis is killed and comes back with its AOF. Each waits for the cluster to be
      // ready again before the next.
      const period = Math.max(6_000, (SECONDS * 1000) / 6)
      const processFaults = (async () => {
        await pace(period * 0.6)
        for (let k = 0; chaos && Date.now() < end - 2_000; k++) {
          const downMs = 200 + Math.floor(random() * 1300)
          if (k % 2 === 0) {
            tally.kill9 = (tally.kill9 ?? 0) + 1
            await cluster.crashAndRestart(Math.floor(random() * NODES), downMs)
          } else {
            tally.redisRestart = (tally.redisRestart ?? 0) + 1
            await redis.stop()
            await pace(downMs)
            await redis.start()
          }
          await Promise.all(cluster.nodes.map((n) => ClusterNodes.readyz(n.url, 200, 30_000)))
          await pace(period)
        }
      })()

      while (Date.now() < end) {
        linkFault(actors, random, tally, faults.later)
        await pace(150 + random() * 250)
      }
      chaos = false
      await processFaults

      // Heal everything, let the work in flight finish, then read the ledger.
      faults.cancel()
      healLinks(actors)
      const failures = await workload.stop()
      const reader = await res.connected(cluster.nodes[0]!.url)
      const ledger = await checkLedger(actors, failures, async () => {
        const doc = reader.record('chaos/doc')
        await doc.ready
        return { data: doc.data, version: doc.version }
      })
      console.log(
        `chaos soak of a cluster: ${JSON.stringify({ seconds: SECONDS, transports: TRANSPORTS, seed: SEED, chaos: tally, ...ledger })}`,
      )
      expect(tally.kill9).toBeGreaterThan(0)
      expect(tally.redisRestart).toBeGreaterThan(0)
      expect(ledger.reconnects).toBeGreaterThan(0)
    },
  )
})
