/**
 * Properties of the Redis engine seen from outside one process: what Redis is asked to do per
 * node (listening only where there are subscribers), reference counts that return to zero, and
 * node identity. Several servers in this process, each its own node on the shared Redis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from 'redis'
import { createServer, type SwitchboardConfigInput } from '@switchboard/server'
import { freePort } from '../support/cli-server.js'
import { scratchSchema } from '../support/postgres.js'
import { RawClient } from '../support/raw-client.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { assertRedisReachable, dropPrefix, OwnRedis, redisUrl, uniquePrefix } from '../support/redis.js'
import { Resources, startServer } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const prefix = uniquePrefix()
const redis = createClient({ url: redisUrl() })
redis.on('error', () => {})

beforeAll(async () => {
  await assertRedisReachable()
  await redis.connect()
})
afterAll(async () => {
  await redis.close()
  await dropPrefix(prefix)
})

const node = (extra: SwitchboardConfigInput = {}) =>
  res.server({
    engine: { type: 'redis', url: redisUrl(), prefix },
    channels: { 'c/**': { history: { size: 100 } } },
    ...extra,
  })

/** How many connections (nodes) listen to a channel's stream in Redis. */
async function listeningNodes(channel: string): Promise<number> {
  const reply = (await redis.sendCommand(['PUBSUB', 'NUMSUB', `${prefix}{c:${channel}}`])) as [string, number]
  return reply[1]
}

describe('Redis engine', () => {
  it('a node listens to a channel once, however many of its clients subscribe, and stops when the last leaves', async () => {
    const [a, b] = [await node(), await node()]
    const onA = await Promise.all([1, 2, 3].map(() => res.connected(a.url)))
    const onB = await Promise.all([1, 2].map(() => res.connected(b.url)))
    const subs = [...onA, ...onB].map((sb) => sb.subscribe('c/shared', () => {}))
    await Promise.all(subs.map((s) => s.ready))
    expect(await listeningNodes('c/shared')).toBe(2)
    for (const s of subs) s.unsubscribe()
    await waitFor(async () => (await listeningNodes('c/shared')) === 0, 'both nodes to stop listening')
  })

  it('a subscriber that recovers holds no listening reference once everyone left', async () => {
    const { url } = await node()
    const publisher = await res.connected(url)
    const { epoch } = await publisher.publish('c/rec', 1)
    const plain = await RawClient.open(url)
    const recovering = await RawClient.open(url)
    res.add(plain, (c) => c.close())
    res.add(recovering, (c) => c.close())
    plain.send({ t: 'sub', id: 1, ch: 'c/rec' })
    await plain.waitFor((m) => m.t === 'ok' && m.id === 1)
    recovering.send({ t: 'sub', id: 1, ch: 'c/rec', since: { offset: 0, epoch } })
    await recovering.waitFor((m) => m.t === 'ok' && m.id === 1)
    expect(await listeningNodes('c/rec')).toBe(1)
    plain.send({ t: 'unsub', id: 2, ch: 'c/rec' })
    recovering.send({ t: 'unsub', id: 2, ch: 'c/rec' })
    await plain.waitFor((m) => m.t === 'ok' && m.id === 2)
    await recovering.waitFor((m) => m.t === 'ok' && m.id === 2)
    await waitFor(async () => (await listeningNodes('c/rec')) === 0, 'the node to stop listening')
  })

  it('refuses to start a second node with the same node id', async () => {
    const first = await node({ engine: { type: 'redis', url: redisUrl(), prefix, nodeId: 'twin' } })
    expect(first.server.nodeId).toBe('twin')
    await expect(startServer({ engine: { type: 'redis', url: redisUrl(), prefix, nodeId: 'twin' } })).rejects.toThrow(
      /node id twin is already in use/,
    )
  })

  it('a first subscriber on one node never misses a change committed on another while it subscribes', async () => {
    const schema = await scratchSchema()
    res.add(schema, (x) => x.drop())
    const storage = { type: 'postgres' as const, url: schema.url }
    // Node B reaches Redis through a proxy that can stall its traffic.
    const proxy = res.add(await new TcpProxy(Number(new URL(redisUrl()).port || 6379)).start(), (p) => p.close())
    const a = await node({ storage })
    const b = await res.server({
      engine: { type: 'redis', url: `redis://127.0.0.1:${proxy.port}`, prefix, nodeTimeout: '60s' },
      storage,
    })
    const writer = await res.connected(a.url)
    const reader = await res.connected(b.url)
    await writer.record('race/x').set({ v: 0 })

    // B gets its first subscriber for the record while its link to Redis stalls: it has asked
    // to listen to the record's changes, but Redis has not heard it yet.
    proxy.hold()
    const seen = reader.record('race/x')
    await waitFor(() => proxy.heldText().includes('$records/race/x'), 'node B to ask Redis for the record’s changes')
    // Meanwhile node A commits (and announces) the next version.
    await writer.record('race/x').set({ v: 1 })
    proxy.hold(false)
    await seen.ready
    await waitFor(() => (seen.data as { v: number } | undefined)?.v === 1, 'the subscriber on B to see version 2', 3000)
    expect(seen.version).toBe(2)
  })

  it('a live query on one node follows writes committed on another (PostgreSQL storage)', async () => {
    const schema = await scratchSchema()
    res.add(schema, (x) => x.drop())
    const storage = { type: 'postgres' as const, url: schema.url }
    const [a, b] = [await node({ storage }), await node({ storage })]
    const writer = await res.connected(a.url)
    const reader = await res.connected(b.url)
    await writer.record('tasks/1').set({ done: false, at: 1 })
    const q = reader.query('tasks', { where: [['done', '==', false]], orderBy: [['at', 'desc']], limit: 2 })
    await q.ready
    expect(q.rows.map((r) => r.name)).toEqual(['tasks/1'])
    await writer.record('tasks/2').set({ done: false, at: 2 })
    await writer.record('tasks/3').set({ done: false, at: 3 })
    await waitFor(() => q.rows.map((r) => r.name).join() === 'tasks/3,tasks/2', 'the window to slide on node B')
    await writer.record('tasks/3').set('done', true)
    await waitFor(() => q.rows.map((r) => r.name).join() === 'tasks/2,tasks/1', 'a row leaving refills the window')
    const oneOff = await b.server.records.query('tasks', {
      where: [['done', '==', false]],
      orderBy: [['at', 'desc']],
      limit: 2,
    })
    expect(oneOff.map((r) => r.name)).toEqual(q.rows.map((r) => r.name))
  })

  it('losing Redis closes sessions with ENGINE_LOST; channels nobody wants any more are not listened to after it returns', async () => {
    const own = res.add(await OwnRedis.start(), (r) => r.destroy())
    const { url } = await res.server({ engine: { type: 'redis', url: own.url, prefix } })
    const gone = res.add(await RawClient.open(url), (c) => c.close())
    gone.send({ t: 'sub', id: 1, ch: 'c/gone' })
    await gone.waitFor((m) => m.t === 'ok' && m.id === 1)
    const ownRedis = res.add(createClient({ url: own.url }), (c) => c.destroy())
    ownRedis.on('error', () => {})
    await ownRedis.connect()
    const numsub = async () =>
      ((await ownRedis.sendCommand(['PUBSUB', 'NUMSUB', `${prefix}{c:c/gone}`])) as [string, number])[1]
    expect(await numsub()).toBe(1)

    await own.stop()
    expect((await gone.waitClosed()).code).toBe(4007)
    const readyz = async () => (await fetch(`${url}/readyz`)).status
    expect(await readyz()).toBe(503)
    await own.start()
    await waitFor(async () => (await readyz()) === 200, 'the node to be ready again')
    // The client that was subscribed never came back: the node must not keep listening for it.
    await waitFor(async () => ownRedis.isReady && (await numsub()) === 0, 'the node to stop listening to c/gone', 5000)
  })

  it('while Redis is down server-side calls fail UNAVAILABLE; after it came back empty, a node registers its in-process RPC handlers again', async () => {
    const own = res.add(await OwnRedis.start(), (r) => r.destroy())
    const engine = { type: 'redis' as const, url: own.url, prefix, nodeTimeout: '2s' }
    const [a, b] = [await res.server({ engine }), await res.server({ engine })]
    await a.server.rpc.handle('node/a', () => 'from a').ready
    expect(await b.server.rpc.call('node/a')).toBe('from a')
    await own.stop()
    // Meanwhile server-side calls and publishes fail with the retryable UNAVAILABLE.
    await expect(b.server.rpc.call('node/a')).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    await expect(b.server.publish('c/down', 1)).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    await own.start()
    // The registry was lost with Redis' data; node A finds itself missing from the node
    // directory on its next heartbeat and announces its handlers again.
    await waitFor(
      async () => (await b.server.rpc.call('node/a').catch(() => undefined)) === 'from a',
      'node A’s handler to be callable again',
      10_000,
    )
  })

  it('a write whose acknowledgement was lost with its node is applied once when the client resends it through another node', async () => {
    const schema = await scratchSchema()
    res.add(schema, (x) => x.drop())
    const storage = { type: 'postgres' as const, url: schema.url }
    const [a, b] = [await node({ storage }), await node({ storage })]
    const watcher = await res.connected(b.url)
    const seen = watcher.record('dedupe/x')
    await seen.ready
    // The writer reaches node A through a proxy; node B is its second URL.
    const proxy = res.add(await new TcpProxy(a.port).start(), (p) => p.close())
    const writer = await res.connected([proxy.url, b.url])
    const rec = writer.record('dedupe/x')
    await rec.ready
    // Node A commits the increment, but its acknowledgement never reaches the writer.
    proxy.hold(true, 'toClient')
    const write = rec.update({ increment: { n: 1 } })
    await waitFor(() => (seen.data as { n?: number } | undefined)?.n === 1, 'node A to commit the increment')
    // Node A is gone for the writer: it reconnects to B and sends the write again (same write id).
    proxy.down()
    expect(await write).toEqual({ version: 1 })
    await rec.set('done', true)
    await waitFor(() => (seen.data as { done?: boolean } | undefined)?.done === true, 'the marker write')
    expect(seen.data).toEqual({ n: 1, done: true })
    expect(seen.version).toBe(2)
  })

  it('a node waits for Redis at start (not ready meanwhile) and can be stopped while it waits', async () => {
    const own = res.add(await OwnRedis.start(), (r) => r.destroy())
    await own.stop()
    const quiet = { storage: { type: 'memory' as const }, log: { level: 'silent' as const } }
    const waiting = createServer({ engine: { type: 'redis', url: own.url, prefix }, ...quiet })
    const started = waiting.ready.then(() => 'ready')
    expect(waiting.state).toBe('starting')
    await own.start()
    expect(await started).toBe('ready')
    await waiting.close()

    // Stopped while Redis never comes: on one server and on a cluster (no seed node answers).
    for (const engine of [
      { type: 'redis' as const, url: own.url.replace(String(own.port), String(await freePort())), prefix },
      { type: 'redis' as const, cluster: [`redis://127.0.0.1:${await freePort()}`], prefix },
    ]) {
      const stuck = createServer({ engine, ...quiet })
      const outcome = stuck.ready.then(
        () => 'ready',
        () => 'abandoned',
      )
      await stuck.close()
      expect(await outcome).toBe('abandoned')
      expect(stuck.state).toBe('stopped')
    }
  })

  it('server-side publishes, history and RPC handlers cross nodes', async () => {
    const [a, b] = [await node(), await node()]
    const handled = a.server.rpc.handle('sum/all', (args) => (args as number[]).reduce((x, y) => x + y, 0))
    await handled.ready
    expect(await b.server.rpc.call('sum/all', [1, 2, 3])).toBe(6)
    await a.server.publish('c/server', 'x')
    const h = await b.server.history('c/server')
    expect(h.publications.map((p) => p.data)).toEqual(['x'])
  })
})
