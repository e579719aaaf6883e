/**
 * Chaos soak: two nodes joined by the in-process engine (MemoryHub) and sharing one record
 * store; clients that publish and write records while a seeded schedule cuts their TCP
 * connections, adds latency, black-holes them and takes a node's link down. A ledger of every
 * acknowledged publication and record write is checked at the end: none lost, none delivered
 * twice, every channel in order everywhere, records converged.
 *
 *   CHAOS_SECONDS=600 CHAOS_SEED=$RANDOM npx vitest run tests/soak/chaos.test.ts   # a long run
 *
 * The clients use WebSocket, SSE and long-polling in turn (CHAOS_TRANSPORTS to choose).
 * CI runs 60 s with the default seed. `kill -9` of a node and a Redis restart, with the same
 * ledger: chaos-cluster.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryRecordStore } from '@switchboard/storage'
import { MemoryHub, type SwitchboardConfigInput } from '@switchboard/server'
import { Resources } from '../support/server.js'
import {
  checkLedger,
  healLinks,
  proxiedActors,
  linkFault,
  pace,
  SECONDS,
  SEED,
  seeded,
  startWorkload,
  TRANSPORTS,
  undoable,
} from './chaos-ledger.js'

const CLIENTS = 6

const res = new Resources()
afterEach(() => res.cleanup())

const config: SwitchboardConfigInput = {
  channels: { 'chaos/*': { history: { size: 1_000_000, ttl: '10m' } } },
  // Dead links are found within two seconds, so a black hole costs seconds, not the default 30.
  server: { heartbeat: { intervalMs: 500, timeoutMs: 2000 } },
  limits: { maxConnectionsPerIp: 0 },
}

describe('chaos soak', () => {
  it(
    `${SECONDS} s of cuts, latency, black holes and links down (seed ${SEED}): nothing acknowledged lost or doubled, order kept, records converged`,
    { timeout: (SECONDS + 120) * 1000 },
    async () => {
      const random = seeded(SEED)
      const hub = new MemoryHub()
      const store = new MemoryRecordStore()
      const nodes = [
        await res.server(config, { engine: hub.engine(), store }),
        await res.server(config, { engine: hub.engine(), store }),
      ]
      const actors = await proxiedActors(
        res,
        nodes.map((n) => n.port),
        CLIENTS,
        (_i, [a, b]) => (random() < 0.5 ? [a!, b!] : [b!, a!]),
      )

      const workload = startWorkload(actors, 3)
      const tally: Record<string, number> = {}
      const faults = undoable()
      const end = Date.now() + SECONDS * 1000
      while (Date.now() < end) {
        linkFault(actors, random, tally, faults.later)
        await pace(150 + random() * 250)
      }

      // Heal everything, let the work in flight finish, then read the ledger.
      faults.cancel()
      healLinks(actors)
      const failures = await workload.stop()
      const ledger = await checkLedger(actors, failures, () => nodes[0]!.server.records.get('chaos/doc'))
      console.log(
        `chaos soak: ${JSON.stringify({ seconds: SECONDS, transports: TRANSPORTS, seed: SEED, chaos: tally, ...ledger })}`,
      )
      expect(ledger.reconnects).toBeGreaterThan(0) // the chaos did reach the clients
    },
  )
})
