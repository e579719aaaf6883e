import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { Switchboard, SwitchboardError } from '@switchboard/client'
import { hsToken, SECRET } from '../support/jwt.js'
import { assertRedisReachable, dropPrefix, redisUrl, uniquePrefix } from '../support/redis.js'
import { Resources } from '../support/server.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const API_KEY = 'admin-test-key-0123456789-abcdefghijklmnop'
// Development mode (no permissions file: every action allowed), anonymous clients, JWTs and an API key.
const config = (extra: object = {}) => ({
  auth: { anonymous: true, jwt: { secret: SECRET }, apiKeys: [API_KEY] },
  admin: { enabled: true },
  ...extra,
})

interface Snapshot {
  live: string
  nodes: { id: string; self: boolean; connections: number | null }[]
  connections: { id: string; user: string | null; transport: string; channels: string[]; records: string[] }[]
  channels: { name: string; subscribers: number; history: number }[]
  rpc: { name: string; providers: number }[]
  presence: { room: string; members: { client: string }[] }[]
  queries: { collection: string; query: string; subscribers: number; rows: number }[]
  recentWrites: { name: string; version: number; deleted: boolean }[]
}

const snapshotOf = (admin: Switchboard) => admin.rpc.call<Snapshot>('switchboard/admin/snapshot')

describe('the admin view (switchboard/admin/*)', () => {
  it('shows an API key what every connection holds', async () => {
    const { url } = await res.server(config({ channels: { 'chat/**': { history: { size: 10 } } } }))
    const alice = await res.connected(url, { token: await hsToken('alice') })
    await alice.subscribe('chat/lobby', () => {}).ready
    await alice.record('todos/1').ready
    await alice.presence('chat/lobby').join({ name: 'Alice' })
    await alice.rpc.provide('math/add', () => 0).ready
    await alice.publish('chat/lobby', 'hi')
    await alice.record('todos/2').set({ done: false })
    const open = alice.query('todos', { where: [['done', '==', false]] })
    await open.ready
    const admin = await res.connected(url, { token: API_KEY })
    const snap = await snapshotOf(admin)
    expect(snap.queries).toEqual([
      { collection: 'todos', query: 'where done == false · limit 1000', subscribers: 1, rows: 1 },
    ])
    expect(snap.recentWrites[0]).toMatchObject({ name: 'todos/2', version: 1, deleted: false }) // newest first
    const row = snap.connections.find((c) => c.id === alice.clientId)
    expect(row).toMatchObject({ user: 'alice', transport: 'websocket', channels: ['chat/lobby'] })
    expect(row?.records.sort()).toEqual(['todos/1', 'todos/2'])
    expect(snap.channels).toContainEqual({ name: 'chat/lobby', subscribers: 1, ratePerSecond: 0, history: 1 })
    expect(snap.rpc).toContainEqual({ name: 'math/add', providers: 1 })
    expect(snap.presence).toContainEqual({ room: 'chat/lobby', members: [{ user: 'alice', client: alice.clientId }] })
  })

  it('accepts a JWT whose roles include admin, and refuses everyone else (wire and HTTP)', async () => {
    const { url } = await res.server(config())
    const root = await res.connected(url, { token: await hsToken('root', { roles: ['admin'] }) })
    await expect(snapshotOf(root)).resolves.toHaveProperty('connections')

    const bob = await res.connected(url, { token: await hsToken('bob', { roles: ['member'] }) })
    const anon = await res.connected(url)
    for (const sb of [bob, anon]) {
      await expect(snapshotOf(sb)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
      const live = (await snapshotOf(root)).live
      await expect(sb.subscribe(live, () => {}).ready).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
      await expect(sb.publish(live, 'fake')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
      await expect(sb.rpc.provide('switchboard/admin/disconnect', () => 0).ready).rejects.toMatchObject({
        code: 'PERMISSION_DENIED',
      })
    }

    const post = async (token: string | null) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (token) headers.authorization = `Bearer ${token}`
      const r = await fetch(`${url}/api/rpc/switchboard%2Fadmin%2Fsnapshot`, { method: 'POST', headers, body: '{}' })
      return r.status
    }
    expect(await post(await hsToken('bob', { roles: ['member'] }))).toBe(403)
    expect(await post(null)).toBe(403)
    expect(await post(API_KEY)).toBe(200)
  })

  it('streams snapshots to admins on the live channel, never to a pattern subscriber', async () => {
    const { url } = await res.server(config())
    const admin = await res.connected(url, { token: API_KEY })
    const snapshots: Snapshot[] = []
    const { live } = await snapshotOf(admin)
    expect(live).toMatch(/^switchboard\/admin\/live\//)
    await admin.subscribe(live, (data) => snapshots.push(data as Snapshot)).ready
    const eve = await res.connected(url)
    const leaked: string[] = []
    await eve.subscribe('**', (_d, info) => leaked.push(info.channel)).ready
    // A new connection reaches the admin without asking (pushed, not polled).
    const carol = await res.connected(url, { token: await hsToken('carol') })
    await waitFor(() => snapshots.some((s) => s.connections.some((c) => c.id === carol.clientId)), 'carol listed')
    await eve.publish('chat/x', 'marker')
    await waitFor(() => leaked.includes('chat/x'), 'the marker')
    expect(leaked).toEqual(['chat/x'])
  })

  it('disconnects a client (it does not reconnect on its own) and publishes a test message', async () => {
    const { url } = await res.server(config())
    const admin = await res.connected(url, { token: API_KEY })
    const victim = await res.connected(url)
    const messages: unknown[] = []
    await victim.subscribe('chat/test', (d) => messages.push(d)).ready
    await admin.rpc.call('switchboard/admin/publish', { channel: 'chat/test', data: { text: 'test message' } })
    await waitFor(() => messages.length === 1, 'the test message')
    expect(messages).toEqual([{ text: 'test message' }])

    const errors: SwitchboardError[] = []
    victim.on('error', (e) => errors.push(e))
    const closed = nextEvent<string>((fn) => victim.on('state', fn), 'the victim closed')
    await expect(admin.rpc.call('switchboard/admin/disconnect', { client: victim.clientId })).resolves.toEqual({
      disconnected: true,
    })
    expect(await closed).toBe('closed')
    await expect(admin.rpc.call('switchboard/admin/disconnect', { client: 'nobody' })).resolves.toEqual({
      disconnected: false,
    })
  })

  it('is off in production mode unless enabled: no page, no RPCs', async () => {
    const { url } = await res.server({ ...config(), admin: undefined, mode: 'production' })
    expect((await fetch(`${url}/admin`)).status).toBe(404)
    const admin = await res.connected(url, { token: API_KEY })
    await expect(snapshotOf(admin)).rejects.toMatchObject({ code: 'NO_PROVIDER' })
  })

  describe('in a cluster (Redis engine)', () => {
    const prefix = uniquePrefix()
    afterAll(() => dropPrefix(prefix))

    it('lists every live node, this one first, and disconnects a client of another node', async () => {
      await assertRedisReachable()
      const engine = (nodeId: string) => ({ engine: { type: 'redis' as const, url: redisUrl(), prefix, nodeId } })
      const a = await res.server(config(engine('node-a')))
      const b = await res.server(config(engine('node-b')))
      const admin = await res.connected(a.url, { token: API_KEY })
      // node-b is listed from its first heartbeat on, which node-a reads at its next one.
      const listed = await waitFor(async () => {
        const { nodes } = await snapshotOf(admin)
        return nodes.length === 2 && nodes
      }, 'both nodes listed')
      expect(listed).toMatchObject([
        { id: 'node-a', self: true, connections: 1 },
        { id: 'node-b', self: false, connections: null },
      ])

      // A client of node-b, disconnected from node-a's admin view: the call is handed on to node-b.
      const victim = await res.connected(b.url)
      victim.on('error', () => {})
      const closed = nextEvent<string>((fn) => victim.on('state', fn), 'the victim closed')
      await expect(admin.rpc.call('switchboard/admin/disconnect', { client: victim.clientId })).resolves.toEqual({
        disconnected: true,
      })
      expect(await closed).toBe('closed')
    })
  })
})
