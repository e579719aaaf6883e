// The records half of the HTTP API (SPEC §3 HTTP, §4): GET/PUT/PATCH/DELETE /api/records/{name},
// through a real server on a loopback port, with fetch as a backend or curl user would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { hsToken, SECRET } from '../support/jwt.js'
import { Resources } from '../support/server.js'

const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-http-records-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const API_KEY = 'backend-key-0123456789-abcdefghijklmnop'
const RULES = `
records:
  'todos/*': { read: 'true', write: 'user != null && user.id == data.owner', delete: 'user != null && user.id == old.owner' }
`
function securedConfig(extra: SwitchboardConfigInput = {}): SwitchboardConfigInput {
  const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, RULES)
  return { auth: { anonymous: false, jwt: { secret: SECRET }, apiKeys: [API_KEY] }, permissions: file, ...extra }
}

interface Reply {
  status: number
  body: any
  headers: Headers
}

async function call(
  base: string,
  method: string,
  name: string,
  options: { body?: unknown; raw?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  let body: string | undefined = options.raw
  if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const r = await fetch(`${base}/api/records/${name}`, { method, headers, body, signal: AbortSignal.timeout(10_000) })
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers }
}

describe('HTTP API: records', () => {
  it('reads, replaces, updates and deletes a record, with versions and ETags', async () => {
    const { url } = await res.server()
    expect(await call(url, 'GET', 'todos/1')).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    })
    const put = await call(url, 'PUT', 'todos/1', { body: { title: 'milk', votes: 0 } })
    expect(put).toMatchObject({ status: 200, body: { version: 1 } })
    expect(put.headers.get('etag')).toBe('"1"')

    const got = await call(url, 'GET', 'todos/1')
    expect(got).toMatchObject({ status: 200, body: { data: { title: 'milk', votes: 0 }, version: 1 } })
    expect(got.headers.get('etag')).toBe('"1"')
    // The name may also arrive percent-encoded as one segment.
    expect((await call(url, 'GET', 'todos%2F1')).body.version).toBe(1)

    const patched = await call(url, 'PATCH', 'todos/1', {
      body: { increment: { votes: 2 }, push: { tags: 'dairy' }, unset: ['title'] },
    })
    expect(patched).toMatchObject({ status: 200, body: { version: 2 } })
    expect((await call(url, 'GET', 'todos/1')).body).toEqual({ data: { votes: 2, tags: ['dairy'] }, version: 2 })

    expect(await call(url, 'DELETE', 'todos/1')).toMatchObject({ status: 200, body: { version: 3 } })
    expect((await call(url, 'GET', 'todos/1')).status).toBe(404)
    const head = await fetch(`${url}/api/records/todos/1`, { method: 'HEAD' })
    expect(head.status).toBe(404)
  })

  it('notifies subscribed clients exactly as a client write does', async () => {
    const { url } = await res.server()
    const sb = await res.connected(url)
    const rec = sb.record('todos/9')
    await rec.ready
    const seen: unknown[] = []
    const changed = new Promise<void>((resolve) =>
      rec.subscribe((data) => {
        seen.push(data)
        if (rec.version === 2) resolve()
      }),
    )
    await call(url, 'PUT', 'todos/9', { body: { n: 1 } })
    await call(url, 'PATCH', 'todos/9', { body: { increment: { n: 41 } } })
    await changed
    expect(rec.data).toEqual({ n: 42 })
    expect(rec.version).toBe(2)
  })

  it('If-Match makes a write conditional: a stale version gets 409 with the current state', async () => {
    const { url } = await res.server()
    await call(url, 'PUT', 'doc/a', { body: { v: 'one' } })
    await call(url, 'PATCH', 'doc/a', { body: { increment: { n: 1 } } })
    const stale = await call(url, 'PUT', 'doc/a', { body: { v: 'mine' }, headers: { 'if-match': '"1"' } })
    expect(stale.status).toBe(409)
    expect(stale.body.error).toMatchObject({ code: 'VERSION_CONFLICT', data: { version: 2, data: { v: 'one', n: 1 } } })
    const fresh = await call(url, 'PUT', 'doc/a', { body: { v: 'mine' }, headers: { 'if-match': '"2"' } })
    expect(fresh).toMatchObject({ status: 200, body: { version: 3 } })
    expect((await call(url, 'DELETE', 'doc/a', { headers: { 'if-match': 'W/"2"' } })).status).toBe(409)
    expect((await call(url, 'DELETE', 'doc/a', { headers: { 'if-match': 'latest' } })).status).toBe(400)
  })

  it('applies the same auth and rules as connections; an API key acts as the trusted backend', async () => {
    const { url } = await res.server(securedConfig())
    // No credentials: anonymous requests are refused (auth.anonymous: false).
    expect(await call(url, 'GET', 'todos/1')).toMatchObject({ status: 401, body: { error: { code: 'AUTH_FAILED' } } })
    expect((await call(url, 'GET', 'todos/1', { token: 'not-a-jwt' })).status).toBe(401)
    expect((await call(url, 'GET', 'todos/1', { headers: { authorization: 'Basic abc' } })).status).toBe(401)

    const alice = await hsToken('alice')
    const bob = await hsToken('bob')
    expect((await call(url, 'PUT', 'todos/1', { token: alice, body: { owner: 'alice', t: 1 } })).status).toBe(200)
    const denied = await call(url, 'PUT', 'todos/1', { token: bob, body: { owner: 'alice', t: 2 } })
    expect(denied).toMatchObject({ status: 403, body: { error: { code: 'PERMISSION_DENIED' } } })
    expect((await call(url, 'DELETE', 'todos/1', { token: bob })).status).toBe(403)
    expect((await call(url, 'GET', 'todos/1', { token: bob })).body.data).toEqual({ owner: 'alice', t: 1 })

    // The backend key bypasses the rules (and writes a record no rule would allow).
    expect((await call(url, 'PUT', 'todos/1', { token: API_KEY, body: { owner: 'carol' } })).status).toBe(200)
    expect((await call(url, 'PUT', 'other/x', { token: API_KEY, body: { any: true } })).status).toBe(200)
    expect((await call(url, 'GET', 'other/x', { token: alice })).status).toBe(403) // deny by default
  })

  it('rejects bad requests with a JSON error and the matching status, and keeps serving', async () => {
    const { url, server } = await res.server({ limits: { maxMessageBytes: 1024 } })
    const cases: [string, Parameters<typeof call>[3], number, string][] = [
      ['PUT', { raw: '{"a":', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_MESSAGE'],
      ['PUT', { raw: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 400, 'INVALID_MESSAGE'],
      ['PUT', { raw: '' }, 400, 'INVALID_MESSAGE'],
      ['PUT', { body: [1, 2] }, 400, 'INVALID_DATA'],
      ['PUT', { body: 'text' }, 400, 'INVALID_DATA'],
      [
        'PUT',
        { raw: '{"__proto__":{"polluted":true}}', headers: { 'content-type': 'application/json' } },
        400,
        'INVALID_DATA',
      ],
      ['PUT', { body: { big: 'x'.repeat(2000) } }, 413, 'TOO_LARGE'],
      ['PATCH', { body: { set: { a: 1 } } }, 400, 'INVALID_MESSAGE'],
      ['PATCH', { body: { increment: { a: 'one' } } }, 400, 'INVALID_MESSAGE'],
      ['PATCH', { body: { increment: { 'a.__proto__.b': 1 } } }, 400, 'INVALID_DATA'],
      ['POST', { body: {} }, 405, 'INVALID_MESSAGE'],
    ]
    for (const [method, options, status, code] of cases) {
      const r = await call(url, method, 'doc/1', options)
      expect({ method, options, status: r.status, code: r.body?.error?.code }).toEqual({
        method,
        options,
        status,
        code,
      })
      expect(JSON.stringify(r.body)).not.toMatch(/\n\s+at /) // never a stack trace
    }
    expect((await call(url, 'GET', 'bad name!')).body.error.code).toBe('INVALID_NAME')
    expect((await call(url, 'GET', '')).body.error.code).toBe('INVALID_NAME')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    // Nothing above was written, and the server still works.
    expect(await server.records.get('doc/1')).toBeNull()
    expect((await call(url, 'PUT', 'doc/1', { body: { ok: true } })).status).toBe(200)
  })

  it('answers CORS preflights for the origins in server.cors only', async () => {
    const { url } = await res.server({ server: { cors: ['https://app.example'] } })
    const preflight = (origin: string) =>
      fetch(`${url}/api/records/todos/1`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' },
      })
    const ok = await preflight('https://app.example')
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(ok.headers.get('access-control-allow-methods')).toContain('PUT')
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/i)
    const other = await preflight('https://evil.example')
    expect(other.status).toBe(403)
    expect(other.headers.get('access-control-allow-origin')).toBeNull()

    await call(url, 'PUT', 'todos/1', { body: { a: 1 } })
    const get = await fetch(`${url}/api/records/todos/1`, { headers: { origin: 'https://app.example' } })
    expect(get.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(get.headers.get('access-control-expose-headers')).toMatch(/etag/i)
  })
})
