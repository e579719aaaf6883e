// The HTTP API beside records (SPEC §3 HTTP, §4): publish, channel history, presence and RPC,
// through a real server on a loopback port, with fetch as a backend would use them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { hsToken, SECRET } from '../support/jwt.js'
import { Resources } from '../support/server.js'

const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-http-api-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const API_KEY = 'backend-key-0123456789-abcdefghijklmnop'
function secured(rules: string, extra: SwitchboardConfigInput = {}): SwitchboardConfigInput {
  const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, rules)
  return { auth: { anonymous: false, jwt: { secret: SECRET }, apiKeys: [API_KEY] }, permissions: file, ...extra }
}

interface Reply {
  status: number
  body: any
}

async function http(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; token?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {}
  if (options.token) headers.authorization = `Bearer ${options.token}`
  const body = options.body !== undefined ? JSON.stringify(options.body) : options.raw
  if (body !== undefined) headers['content-type'] = 'application/json'
  const r = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(10_000) })
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) : undefined }
}

describe('HTTP API: publish and history', () => {
  it('publishes like a client (ack = in history), and reads history with since/epoch and limit', async () => {
    const { url } = await res.server({ channels: { 'chat/**': { history: { size: 100, ttl: '10m' } } } })
    const sb = await res.connected(url)
    const got: unknown[] = []
    let allThree!: () => void
    const three = new Promise<void>((resolve) => (allThree = resolve))
    const sub = sb.subscribe('chat/lobby', (data) => {
      got.push(data)
      if (got.length === 3) allThree()
    })
    await sub.ready
    const acks: Reply[] = []
    for (let i = 1; i <= 3; i++)
      acks.push(await http(url, 'POST', '/api/publish', { body: { channel: 'chat/lobby', data: { i } } }))
    expect(acks.map((a) => a.status)).toEqual([200, 200, 200])
    expect(acks.map((a) => a.body.offset)).toEqual([1, 2, 3])
    const epoch = acks[0]?.body.epoch as string
    expect(typeof epoch).toBe('string')
    await three
    expect(got).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }])

    const all = await http(url, 'GET', '/api/channels/chat%2Flobby/history')
    expect(all.status).toBe(200)
    expect(all.body).toMatchObject({ epoch, offset: 3 })
    expect(all.body.publications.map((p: { data: unknown; offset: number }) => [p.data, p.offset])).toEqual([
      [{ i: 1 }, 1],
      [{ i: 2 }, 2],
      [{ i: 3 }, 3],
    ])
    expect(all.body.publications[0].publisher).toEqual({ user: null, client: 'http' })
    const after1 = await http(url, 'GET', `/api/channels/chat/lobby/history?since=1&epoch=${epoch}`)
    expect(after1.body.publications.map((p: { offset: number }) => p.offset)).toEqual([2, 3])
    const last = await http(url, 'GET', '/api/channels/chat/lobby/history?limit=1')
    expect(last.body.publications.map((p: { offset: number }) => p.offset)).toEqual([3])
    // The same history through the client API.
    expect((await sb.history('chat/lobby', { since: { offset: 1, epoch } })).publications).toHaveLength(2)
  })

  it('applies the publish and history rules, and rejects bad bodies and queries', async () => {
    const { url } = await res.server(
      secured(`
channels:
  'news/*': { subscribe: 'true', publish: 'user != null && "editor" in user.roles', history: 'user != null' }
`),
    )
    const editor = await hsToken('ed', { roles: ['editor'] })
    const reader = await hsToken('rd', { roles: [] })
    const pub = (token: string | undefined, body: unknown) => http(url, 'POST', '/api/publish', { token, body })
    expect((await pub(undefined, { channel: 'news/a', data: 1 })).status).toBe(401)
    expect((await pub(reader, { channel: 'news/a', data: 1 })).body.error.code).toBe('PERMISSION_DENIED')
    expect((await pub(editor, { channel: 'news/a', data: { headline: 'x' } })).status).toBe(200)
    expect((await pub(API_KEY, { channel: 'other/b', data: 1 })).status).toBe(200) // backend: no rules

    for (const bad of [{ channel: 'news/a' }, { channel: 'news/a', data: 1, extra: 1 }, { channel: 5, data: 1 }, [1]]) {
      expect((await pub(editor, bad)).body.error.code).toBe('INVALID_MESSAGE')
    }
    expect((await pub(editor, { channel: 'bad name', data: 1 })).body.error.code).toBe('INVALID_NAME')
    expect(
      (
        await http(url, 'POST', '/api/publish', {
          token: editor,
          raw: '{"channel":"news/a","data":{"__proto__":{"x":1}}}',
        })
      ).body.error.code,
    ).toBe('INVALID_DATA')

    const hist = (path: string, token?: string) => http(url, 'GET', path, { token })
    expect((await hist('/api/channels/news/a/history', reader)).status).toBe(200)
    expect((await hist('/api/channels/news/a/history')).status).toBe(401)
    expect((await hist('/api/channels/news/a/history?since=1', reader)).body.error.code).toBe('INVALID_MESSAGE')
    expect((await hist('/api/channels/news/a/history?limit=lots', reader)).body.error.code).toBe('INVALID_MESSAGE')
    expect((await hist('/api/channels/news/a', reader)).status).toBe(404)
    expect((await http(url, 'DELETE', '/api/channels/news/a/history', { token: reader })).status).toBe(405)
  })

  it('checks published data against the channel schema', async () => {
    const schema = join(dir, 'msg.json')
    writeFileSync(
      schema,
      JSON.stringify({ type: 'object', required: ['text'], properties: { text: { type: 'string' } } }),
    )
    const { url } = await res.server({ schemas: { 'chat/*': schema } })
    const r = await http(url, 'POST', '/api/publish', { body: { channel: 'chat/x', data: { text: 5 } } })
    expect(r).toMatchObject({ status: 400, body: { error: { code: 'INVALID_DATA' } } })
    expect(r.body.error.message).toContain('/text')
  })
})

describe('HTTP API: presence', () => {
  it('lists the members of a room and of the global room, under the read rule', async () => {
    const { url } = await res.server(
      secured(`
presence:
  'room/*': { join: 'user != null', read: 'user != null' }
  'secret/*': { join: 'user != null', read: 'false' }
  '$global': { join: 'user != null', read: 'true' }
`),
    )
    const alice = await res.connected(url, { token: await hsToken('alice') })
    const room = alice.presence('room/1')
    await room.join({ status: 'typing' })
    await alice.presence().join({ status: 'online' })
    const token = await hsToken('bob')
    const r = await http(url, 'GET', '/api/presence/room/1', { token })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      members: [{ userId: 'alice', clientId: expect.any(String), meta: { status: 'typing' } }],
      count: 1,
    })
    expect((await http(url, 'GET', '/api/presence', { token })).body).toMatchObject({
      members: [{ userId: 'alice', meta: { status: 'online' } }],
      count: 1,
    })
    expect((await http(url, 'GET', '/api/presence/room/empty', { token })).body).toEqual({ members: [], count: 0 })
    expect((await http(url, 'GET', '/api/presence/secret/1', { token })).status).toBe(403)
    expect((await http(url, 'GET', '/api/presence/room/1')).status).toBe(401)
    expect((await http(url, 'GET', '/api/presence/bad name', { token })).body.error.code).toBe('INVALID_NAME')
    await room.leave()
    expect((await http(url, 'GET', '/api/presence/room/1', { token })).body.count).toBe(0)
  })
})

describe('HTTP API: RPC', () => {
  it('calls a provider like a client would, with the caller as ctx.user, and maps failures', async () => {
    const { url, server } = await res.server(
      secured(`
rpc:
  'math/*': { provide: 'true', call: 'user != null' }
  'admin/*': { provide: 'true', call: 'false' }
`),
    )
    const worker = await res.connected(url, { token: await hsToken('worker') })
    await worker.rpc.provide('math/add', async (args: any) => args.a + args.b).ready
    await worker.rpc.provide('math/whoami', async (_args, ctx) => ctx.user?.id ?? null).ready
    await worker.rpc.provide('math/fail', async () => {
      throw new Error('division by zero')
    }).ready
    await worker.rpc.provide('math/none', async () => undefined).ready
    await worker.rpc.provide('math/slow', () => new Promise(() => {})).ready
    server.rpc.handle('admin/reset', async () => 'done')

    const token = await hsToken('carol')
    const call = (name: string, options: { body?: unknown; raw?: string; token?: string } = {}) =>
      http(url, 'POST', `/api/rpc/${name}`, { token, ...options })
    expect(await call('math/add', { body: { a: 1, b: 2 } })).toEqual({ status: 200, body: { result: 3 } })
    expect(await call('math/whoami', { raw: '' })).toEqual({ status: 200, body: { result: 'carol' } })
    expect(await call('math/none', { body: null })).toEqual({ status: 200, body: { result: null } })
    expect(await call('math/fail', { body: {} })).toMatchObject({
      status: 502,
      body: { error: { code: 'RPC_ERROR', message: expect.stringContaining('division by zero') } },
    })
    expect((await call('math/missing', { body: {} })).body.error.code).toBe('NO_PROVIDER')
    expect((await call('math/missing', { body: {} })).status).toBe(503)
    const slow = await http(url, 'POST', '/api/rpc/math/slow?timeoutMs=100', { token, body: {} })
    expect(slow).toMatchObject({ status: 504, body: { error: { code: 'TIMEOUT' } } })
    expect((await http(url, 'POST', '/api/rpc/math/add?timeoutMs=soon', { token, body: {} })).status).toBe(400)

    expect((await call('admin/reset', { body: {} })).status).toBe(403)
    expect(await call('admin/reset', { body: {}, token: API_KEY })).toEqual({ status: 200, body: { result: 'done' } })
    expect((await call('math/add', { body: {}, token: '' })).status).toBe(401)
    expect((await http(url, 'GET', '/api/rpc/math/add', { token })).status).toBe(405)
  })
})

describe('HTTP API: rate limit', () => {
  it('holds each address to limits.messagesPerSecond with a burst, answering 429', async () => {
    const { url } = await res.server({ limits: { messagesPerSecond: 1, messagesBurst: 3 } })
    // Ten at once: the burst of 3 passes, and at 1/s the rest cannot all have refilled.
    const statuses = (await Promise.all(Array.from({ length: 10 }, () => http(url, 'GET', '/api/presence')))).map(
      (r) => r.status,
    )
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3)
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1)
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    const r = await fetch(`${url}/api/presence`)
    expect(r.status).toBe(429)
    expect(r.headers.get('retry-after')).toBe('1')
    expect(await r.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } })
  })
})

describe('HTTP API: CORS', () => {
  it('answers preflights on every API route for the configured origins', async () => {
    const { url } = await res.server({ server: { cors: ['*'] } })
    for (const path of ['/api/publish', '/api/rpc/a/b', '/api/presence', '/api/channels/a/history']) {
      const r = await fetch(`${url}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://any.example', 'access-control-request-method': 'POST' },
      })
      expect({ path, status: r.status, origin: r.headers.get('access-control-allow-origin') }).toEqual({
        path,
        status: 204,
        origin: 'https://any.example',
      })
    }
  })
})
