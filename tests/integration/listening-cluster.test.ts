/**
 * Listening, occupancy and hooks across the nodes of a cluster on the Redis engine: in-process
 * servers, each its own node on one Redis server and then on a 3-master Redis Cluster; and
 * `switchboard start` processes for a node killed with SIGKILL (needs `npm run build`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Switchboard } from '@switchboard/client'
import type { SwitchboardConfigInput } from '@switchboard/server'
import type { CliServer } from '../support/cli-server.js'
import { ClusterNodes, type RedisTarget } from '../support/cluster-nodes.js'
import { HookReceiver } from '../support/hook-receiver.js'
import { scratchSchema } from '../support/postgres.js'
import {
  assertRedisReachable,
  dropPrefix,
  OwnRedis,
  RedisClusterProcesses,
  redisUrl,
  uniquePrefix,
} from '../support/redis.js'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup(), 60_000)

const HOOK_SECRET = 'hook-secret-for-tests-0123456789'

type Seen = [name: string, active: boolean][]

/** Starts a listener that records what it is told; resolves once it is registered. */
async function listening(sb: Switchboard, pattern: string, kind: 'channel' | 'record' = 'channel') {
  const seen: Seen = []
  const listener = sb.listen(pattern, (name, { active }) => seen.push([name, active]), { kind })
  await listener.ready
  return { listener, seen }
}

const told = (seen: Seen, count: number, what: string, timeoutMs?: number) =>
  waitFor(() => seen.length >= count, what, timeoutMs)

/** Occupancy hook events for `name`, over every request the receiver got. */
const hooksAbout = (hooks: HookReceiver, name: string) =>
  hooks.events.filter((e) => e.name === name).map((e) => `${e.type as string}@${e.node as string}`)

interface Setup {
  name: string
  start(): Promise<{ redis: RedisTarget; masters: string[]; stop(): Promise<void> }>
}

const setups: Setup[] = [
  {
    name: 'one Redis server',
    async start() {
      await assertRedisReachable()
      return { redis: { url: redisUrl() }, masters: [redisUrl()], stop: async () => {} }
    },
  },
  {
    name: 'a 3-master Redis Cluster',
    async start() {
      const cluster = await RedisClusterProcesses.start()
      return { redis: { cluster: cluster.urls }, masters: cluster.urls, stop: () => cluster.stop() }
    },
  },
]

describe.each(setups)('listening across in-process nodes on $name', (setup) => {
  let redis: Awaited<ReturnType<Setup['start']>>
  const prefix = uniquePrefix()
  beforeAll(async () => {
    redis = await setup.start()
  }, 60_000)
  afterAll(async () => {
    await dropPrefix(prefix, redis?.masters).catch(() => {})
    await redis?.stop()
  }, 30_000)

  /** A node of this cluster: no grace period, so a name is vacant as soon as its last subscriber left. */
  const node = (extra: SwitchboardConfigInput = {}) =>
    res.server({ engine: { type: 'redis', ...redis.redis, prefix }, hooks: { graceMs: 0 }, ...extra })

  it('a listener on node A is told when a channel gains its first subscriber on node B, and when it loses the last', async () => {
    const [a, b] = [await node(), await node()]
    const feeder = await res.connected(a.url)
    const { seen } = await listening(feeder, 'prices/*')
    const [s1, s2] = [await res.connected(b.url), await res.connected(b.url)]
    const first = s1.subscribe('prices/AAPL', () => {})
    await first.ready
    await told(seen, 1, 'active:true from the other node')
    const second = s2.subscribe('prices/AAPL', () => {})
    await second.ready
    first.unsubscribe()
    // A marker: anything the second subscriber or the first unsubscribe caused would come first.
    await s1.subscribe('prices/MSFT', () => {}).ready
    await told(seen, 2, 'the marker')
    second.unsubscribe()
    await told(seen, 3, 'active:false from the other node')
    expect(seen).toEqual([
      ['prices/AAPL', true],
      ['prices/MSFT', true],
      ['prices/AAPL', false],
    ])
  })

  it('records: a record subscribed on node B is active for a listener on node A while it has subscribers anywhere', async () => {
    const [a, b, c] = [await node(), await node(), await node()]
    const feeder = await res.connected(a.url)
    const { seen } = await listening(feeder, 'todos/*', 'record')
    const [onB, onC] = [await res.connected(b.url), await res.connected(c.url)]
    const recB = onB.record('todos/1')
    await recB.ready
    await told(seen, 1, 'record active')
    const recC = onC.record('todos/1')
    await recC.ready
    recB.discard()
    await onB.subscribe('todos/marker', () => {}).ready // a channel: not the record listener's business
    await onB.record('todos/marker').ready
    await told(seen, 2, 'the marker record')
    recC.discard()
    await told(seen, 3, 'record inactive')
    expect(seen).toEqual([
      ['todos/1', true],
      ['todos/marker', true],
      ['todos/1', false],
    ])
  })

  it('takeover: when the listener on node A stops, a listener on node C gets the name, told active', async () => {
    const [a, b, c] = [await node(), await node(), await node()]
    const first = await listening(await res.connected(a.url), 'prices/*')
    const subscriber = await res.connected(b.url)
    await subscriber.subscribe('prices/A', () => {}).ready
    await told(first.seen, 1, 'the first listener')
    const second = await listening(await res.connected(c.url), '**')
    await first.listener.stop()
    await told(second.seen, 1, 'the takeover on node C')
    expect(second.seen).toEqual([['prices/A', true]])
    expect(first.seen).toEqual([['prices/A', true]])
  })

  it('takeover when the listening client closes, and only one listener in the cluster owns a name at a time', async () => {
    const [a, b, c] = [await node(), await node(), await node()]
    const clients = [await res.connected(a.url), await res.connected(b.url), await res.connected(c.url)]
    const listeners = await Promise.all(clients.map((sb) => listening(sb, 'feed/*')))
    const subscriber = await res.connected(b.url)
    await subscriber.subscribe('feed/x', () => {}).ready
    await waitFor(() => listeners.some((l) => l.seen.length > 0), 'one listener to get feed/x')
    const owner = listeners.findIndex((l) => l.seen.length > 0)
    await clients[owner]!.close()
    const others = listeners.filter((_, i) => i !== owner)
    await waitFor(() => others.some((l) => l.seen.length > 0), 'another listener to take over')
    // A marker makes sure nothing else is on its way: each new name goes to exactly one listener.
    await subscriber.subscribe('feed/marker', () => {}).ready
    await waitFor(() => others.some((l) => l.seen.some(([n]) => n === 'feed/marker')), 'the marker')
    const active = others.flatMap((l) => l.seen).filter(([n]) => n === 'feed/x')
    expect(active).toEqual([['feed/x', true]])
    expect(listeners[owner]!.seen).toEqual([
      ['feed/x', true],
      ['feed/x', false],
    ])
  })

  it('a listener connecting late on another node is told about the names already active anywhere', async () => {
    const [a, b, c] = [await node(), await node(), await node()]
    await (await res.connected(a.url)).subscribe('prices/A', () => {}).ready
    await (await res.connected(b.url)).subscribe('prices/B', () => {}).ready
    await (await res.connected(b.url)).subscribe('other/C', () => {}).ready
    const late = await listening(await res.connected(c.url), 'prices/*')
    await told(late.seen, 2, 'both active names')
    expect(late.seen.map(([n]) => n).sort()).toEqual(['prices/A', 'prices/B'])
    expect([...late.listener.active].sort()).toEqual(['prices/A', 'prices/B'])
  })

  it('server.listen on node A hears subscribers on node B', async () => {
    const [a, b] = [await node(), await node()]
    const seen: Seen = []
    const inProcess = a.server.listen('prices/*', (name, { active }) => seen.push([name, active]))
    await inProcess.ready
    const sub = (await res.connected(b.url)).subscribe('prices/Z', () => {})
    await sub.ready
    await told(seen, 1, 'active')
    sub.unsubscribe()
    await told(seen, 2, 'inactive')
    expect(seen).toEqual([
      ['prices/Z', true],
      ['prices/Z', false],
    ])
    await inProcess.stop()
  })

  it('hooks: each cluster-wide transition is POSTed once, by the node that caused it', async () => {
    const hooks = res.add(await new HookReceiver(HOOK_SECRET).start(), (r) => r.close())
    const config: SwitchboardConfigInput = {
      hooks: { url: hooks.url, secret: HOOK_SECRET, graceMs: 0, batchMs: 10, events: ['occupied', 'vacated'] },
    }
    const [a, b, c] = [await node(config), await node(config), await node(config)]
    const [onA, onB, onC] = [await res.connected(a.url), await res.connected(b.url), await res.connected(c.url)]
    const subA = onA.subscribe('rooms/1', () => {})
    await subA.ready
    const subB = onB.subscribe('rooms/1', () => {})
    const subC = onC.subscribe('rooms/1', () => {})
    await Promise.all([subB.ready, subC.ready])
    subA.unsubscribe()
    subC.unsubscribe()
    await onA.subscribe('rooms/marker', () => {}).ready
    await waitFor(() => hooksAbout(hooks, 'rooms/marker').length === 1, 'the marker hook')
    subB.unsubscribe()
    await waitFor(() => hooksAbout(hooks, 'rooms/1').length === 2, 'the vacated hook')
    expect(hooksAbout(hooks, 'rooms/1')).toEqual([`occupied@${a.server.nodeId}`, `vacated@${b.server.nodeId}`])
    expect(hooks.requests.every((r) => r.signedCorrectly)).toBe(true)
  })
})

describe('a node killed with SIGKILL (processes on one Redis server)', () => {
  it('its holdings vanish within the node timeout: a listener elsewhere is told inactive, the hook reports vacated once', async () => {
    await assertRedisReachable()
    const hooks = res.add(await new HookReceiver(HOOK_SECRET).start(), (r) => r.close())
    const schema = res.add(await scratchSchema(), (s) => s.drop())
    const prefix = res.add(uniquePrefix(), (p) => dropPrefix(p))
    const cluster = res.add(
      new ClusterNodes({
        redis: { url: redisUrl() },
        prefix,
        postgresUrl: schema.url,
        nodeTimeout: '2s',
        config: {
          hooks: { url: hooks.url, secret: HOOK_SECRET, graceMs: 0, batchMs: 10, events: ['occupied', 'vacated'] },
        },
      }),
      (c) => c.stop(),
    )
    const [a, b, c] = (await cluster.startMany(3)) as [CliServer, CliServer, CliServer]
    const { seen } = await listening(await res.connected(a.url), 'sensors/*')
    const onB = await res.connected(b.url)
    await onB.subscribe('sensors/1', () => {}).ready
    await onB.subscribe('sensors/2', () => {}).ready
    // sensors/2 also has a subscriber on node C: it stays active when B dies.
    await (await res.connected(c.url)).subscribe('sensors/2', () => {}).ready
    await told(seen, 2, 'both names active')
    await waitFor(() => hooksAbout(hooks, 'sensors/1').length === 1, 'the occupied hook')
    await b.kill()
    await told(seen, 3, 'sensors/1 inactive after the dead node timed out', 30_000)
    expect(seen.slice(2)).toEqual([['sensors/1', false]])
    await waitFor(() => hooksAbout(hooks, 'sensors/1').length === 2, 'the vacated hook')
    const [occupied, vacated] = hooksAbout(hooks, 'sensors/1')
    expect(occupied?.startsWith('occupied@')).toBe(true)
    expect(vacated?.startsWith('vacated@')).toBe(true)
    // Reported by a survivor, once.
    await (await res.connected(a.url)).subscribe('sensors/marker', () => {}).ready
    await waitFor(() => hooksAbout(hooks, 'sensors/marker').length === 1, 'the marker hook')
    expect(hooksAbout(hooks, 'sensors/1')).toHaveLength(2)
    expect(hooksAbout(hooks, 'sensors/2')).toHaveLength(1)
  })
})

describe('Redis restarting empty', () => {
  it('an in-process listener is told its name ended, and gets it back once the subscriber on another node is back', async () => {
    const own = res.add(await OwnRedis.start(), (r) => r.destroy())
    const engine = { type: 'redis' as const, url: own.url, prefix: uniquePrefix(), nodeTimeout: '2s' }
    const [a, b] = [
      await res.server({ engine, hooks: { graceMs: 0 } }),
      await res.server({ engine, hooks: { graceMs: 0 } }),
    ]
    const seen: Seen = []
    const inProcess = a.server.listen('prices/*', (name, { active }) => seen.push([name, active]))
    await inProcess.ready
    // The client reconnects (to B again) when B closes its session for the lost engine.
    const sb = await res.connected(b.url, { reconnect: { minDelayMs: 50, maxDelayMs: 200 } })
    // While Redis is down the node refuses connections (503): expected, and retried.
    const refusals: string[] = []
    sb.on('error', (e) => refusals.push(e.code))
    await sb.subscribe('prices/A', () => {}).ready
    await told(seen, 1, 'active')
    await own.stop()
    await own.start()
    await waitFor(
      () => seen.length >= 3 && seen.at(-1)?.[1] === true,
      'the listener to be told the name ended and then active again',
      20_000,
    )
    expect(seen.slice(0, 3)).toEqual([
      ['prices/A', true],
      ['prices/A', false],
      ['prices/A', true],
    ])
    expect(refusals.every((code) => code === 'UNAVAILABLE')).toBe(true)
    await inProcess.stop()
  })
})
