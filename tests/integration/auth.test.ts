import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { SignJWT } from 'jose'
import { createServer, ConfigError, type SwitchboardConfigInput } from '@switchboard/server'
import { startAuthWebhook, type WebhookAnswer } from '../support/auth-webhook.js'
import { Resources } from '../support/server.js'
import { RawClient } from '../support/raw-client.js'
import { hsToken, keyPair, rawToken, SECRET } from '../support/jwt.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const rsa = await keyPair('RS256')
const ec = await keyPair('ES256')
const ed = await keyPair('EdDSA')
const otherRsa = await keyPair('RS256')
afterAll(() => [rsa, ec, ed, otherRsa].forEach((k) => k.cleanup()))

const hs: SwitchboardConfigInput = { auth: { anonymous: false, jwt: { secret: SECRET } } }
const hsStrict: SwitchboardConfigInput = {
  auth: { anonymous: false, jwt: { secret: SECRET, issuer: 'https://auth.example', audience: 'switchboard' } },
}
const rs: SwitchboardConfigInput = { auth: { anonymous: false, jwt: { publicKey: rsa.pem } } }
const jwks: SwitchboardConfigInput = { auth: { anonymous: false, jwt: { jwksFile: rsa.jwksFile } } }
const now = () => Math.floor(Date.now() / 1000)

/** Sends a hello with `token` and returns everything the server said before it closed. */
async function attempt(url: string, token: string | undefined) {
  const c = res.add(await RawClient.open(url, { hello: false }), (x) => x.close())
  c.send(token === undefined ? { t: 'hello', id: 0, v: 1 } : { t: 'hello', id: 0, v: 1, token })
  const closed = await c.waitClosed()
  return { closed, messages: c.messages }
}

/** Each forged or unacceptable credential, and the exact refusal it must get. */
const attacks: {
  name: string
  config: SwitchboardConfigInput
  token: () => Promise<string | undefined>
  code: 'AUTH_FAILED' | 'TOKEN_EXPIRED'
  msg: RegExp
}[] = [
  {
    name: 'forged signature (another secret)',
    config: hs,
    token: () => hsToken('admin', {}, { secret: 'x'.repeat(48) }),
    code: 'AUTH_FAILED',
    msg: /signature is invalid/,
  },
  {
    name: 'tampered payload (signature of another token)',
    config: hs,
    token: async () => {
      const [h, , s] = (await hsToken('alice')).split('.')
      return `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', exp: now() + 60 })).toString('base64url')}.${s}`
    },
    code: 'AUTH_FAILED',
    msg: /signature is invalid/,
  },
  {
    name: 'alg: none (HS server)',
    config: hs,
    token: async () => rawToken({ alg: 'none', typ: 'JWT' }, { sub: 'admin', exp: now() + 60 }),
    code: 'AUTH_FAILED',
    msg: /algorithm is not allowed/,
  },
  {
    name: 'alg: none (RS server)',
    config: rs,
    token: async () => rawToken({ alg: 'none' }, { sub: 'admin', exp: now() + 60 }),
    code: 'AUTH_FAILED',
    msg: /algorithm is not allowed/,
  },
  {
    name: 'HS/RS confusion: HS256 keyed with the RSA public key',
    config: rs,
    token: () => hsToken('admin', {}, { secret: rsa.pem }),
    code: 'AUTH_FAILED',
    msg: /algorithm is not allowed/,
  },
  {
    name: 'RS256 token at an HS server',
    config: hs,
    token: () => rsa.sign('admin'),
    code: 'AUTH_FAILED',
    msg: /algorithm is not allowed/,
  },
  {
    name: 'RS256 signed by another key',
    config: rs,
    token: () => otherRsa.sign('admin'),
    code: 'AUTH_FAILED',
    msg: /signature is invalid/,
  },
  {
    name: 'JWKS: signed by a key not in the set',
    config: jwks,
    token: () => otherRsa.sign('admin', {}, { kid: 'k2' }),
    code: 'AUTH_FAILED',
    msg: /no configured key matches/,
  },
  {
    name: 'expired',
    config: hs,
    token: () => hsToken('alice', {}, { expiresIn: -3600 }),
    code: 'TOKEN_EXPIRED',
    msg: /token expired/,
  },
  {
    name: 'not valid yet (nbf)',
    config: hs,
    token: () =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('a')
        .setNotBefore(now() + 3600)
        .sign(new TextEncoder().encode(SECRET)),
    code: 'AUTH_FAILED',
    msg: /not valid yet/,
  },
  {
    name: 'wrong audience',
    config: hsStrict,
    token: () => hsToken('alice', { iss: 'https://auth.example', aud: 'other-app' }),
    code: 'AUTH_FAILED',
    msg: /"aud" claim/,
  },
  {
    name: 'wrong issuer',
    config: hsStrict,
    token: () => hsToken('alice', { iss: 'https://evil.example', aud: 'switchboard' }),
    code: 'AUTH_FAILED',
    msg: /"iss" claim/,
  },
  {
    name: 'missing issuer and audience',
    config: hsStrict,
    token: () => hsToken('alice'),
    code: 'AUTH_FAILED',
    msg: /"(iss|aud)" claim/,
  },
  {
    name: 'no sub',
    config: hs,
    token: () =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET)),
    code: 'AUTH_FAILED',
    msg: /sub/,
  },
  { name: 'not a JWT', config: hs, token: async () => 'letmein', code: 'AUTH_FAILED', msg: /not a JWT/ },
  {
    name: 'no token when anonymous access is off',
    config: hs,
    token: async () => undefined,
    code: 'AUTH_FAILED',
    msg: /token is required/,
  },
  {
    name: 'a token at a server with no verification',
    config: {},
    token: () => hsToken('alice'),
    code: 'AUTH_FAILED',
    msg: /no token verification/,
  },
  {
    name: 'a wrong API key of the same length',
    config: { auth: { anonymous: false, apiKeys: ['k'.repeat(40)] } },
    token: async () => 'j'.repeat(40),
    code: 'AUTH_FAILED',
    msg: /no token verification/,
  },
]

describe('auth attacks', () => {
  it.each(attacks)('$name → $code, closed, nothing else sent', async ({ config, token, code, msg }) => {
    const { url } = await res.server(config)
    const { closed, messages } = await attempt(url, await token())
    expect(messages).toHaveLength(1) // no welcome, no data: just the refusal
    expect(messages[0]).toMatchObject({ t: 'err', id: 0, code })
    expect(messages[0]!.msg).toMatch(msg)
    expect(closed.code).toBe(code === 'TOKEN_EXPIRED' ? 4004 : 4500)
  })
})

describe('accepted tokens', () => {
  const cases: { name: string; config: SwitchboardConfigInput; token: () => Promise<string> }[] = [
    { name: 'HS256', config: hs, token: () => hsToken('alice', { roles: ['member'] }) },
    { name: 'HS384', config: hs, token: () => hsToken('alice', { roles: ['member'] }, { alg: 'HS384' }) },
    { name: 'HS512', config: hs, token: () => hsToken('alice', { roles: ['member'] }, { alg: 'HS512' }) },
    { name: 'RS256 (PEM)', config: rs, token: () => rsa.sign('alice', { roles: ['member'] }) },
    {
      name: 'ES256 (PEM)',
      config: { auth: { jwt: { publicKey: ec.pem } } },
      token: () => ec.sign('alice', { roles: ['member'] }),
    },
    {
      name: 'EdDSA (PEM)',
      config: { auth: { jwt: { publicKey: ed.pem } } },
      token: () => ed.sign('alice', { roles: ['member'] }),
    },
    { name: 'RS256 (JWKS file)', config: jwks, token: () => rsa.sign('alice', { roles: ['member'] }) },
    {
      name: 'HS256 with issuer and audience',
      config: hsStrict,
      token: () => hsToken('alice', { roles: ['member'], iss: 'https://auth.example', aud: 'switchboard' }),
    },
    {
      name: 'expired within the clock tolerance',
      config: hs,
      token: () => hsToken('alice', { roles: ['member'] }, { expiresIn: -5 }),
    },
  ]

  it.each(cases)(
    '$name: sb.user is { id: sub, ...claims } without the registered claims',
    async ({ config, token }) => {
      const { url } = await res.server(config)
      const sb = await res.connected(url, { token: await token() })
      expect(sb.user).toEqual({ id: 'alice', roles: ['member'] })
    },
  )

  it('a __proto__ claim never becomes part of the user (or of anything else)', async () => {
    const { url } = await res.server({
      ...hs,
      permissions: rulesFile("channels:\n  'admin/*': { subscribe: '\"admin\" in user.roles' }\n"),
    })
    const claims = JSON.parse('{"__proto__":{"roles":["admin"]},"name":"eve"}') as Record<string, unknown>
    const sb = await res.connected(url, { token: await hsToken('eve', claims) })
    expect(sb.user).toEqual({ id: 'eve', name: 'eve' })
    await expect(sb.subscribe('admin/panel', () => {}).ready).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    expect(({} as Record<string, unknown>).roles).toBeUndefined()
  })
})

describe('API keys', () => {
  it('a trusted backend presenting its key as the hello token bypasses the rules', async () => {
    const key = 'backend-key-' + 'z'.repeat(32)
    const { url } = await res.server({
      auth: { anonymous: true, apiKeys: [key] },
      permissions: rulesFile("channels:\n  'locked/*': { subscribe: 'false', publish: 'false' }\n"),
    })
    const backend = await res.connected(url, { token: key })
    expect(backend.user).toEqual({ id: 'backend' })
    const got: unknown[] = []
    await backend.subscribe('locked/1', (d) => got.push(d)).ready
    await expect(backend.publish('locked/1', 'from the backend')).resolves.toMatchObject({ offset: 1 })
    await waitFor(() => got.length === 1, 'the backend to receive its publication')
    const anonymous = await res.connected(url)
    await expect(anonymous.publish('locked/1', 'x')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
  })
})

describe('webhook auth', () => {
  async function webhook(answer: (token: string) => WebhookAnswer) {
    return res.add(await startAuthWebhook(answer), (h) => h.close())
  }

  it('accepts { userId, claims }, rejects 401, and caches answers by token', async () => {
    const hook = await webhook((token) =>
      token === 'good-session'
        ? { status: 200, body: { userId: 'carol', claims: { plan: 'pro', __proto__: 'x' } } }
        : { status: 401 },
    )
    const { url } = await res.server({ auth: { anonymous: false, webhook: { url: hook.url, cacheTtl: '1m' } } })
    const a = await res.connected(url, { token: 'good-session' })
    const b = await res.connected(url, { token: 'good-session' })
    expect(a.user).toEqual({ id: 'carol', plan: 'pro' })
    expect(b.user).toEqual({ id: 'carol', plan: 'pro' })
    expect(hook.calls).toEqual(['good-session']) // the second connection used the cache
    const { messages, closed } = await attempt(url, 'stolen-session')
    expect(messages).toEqual([
      expect.objectContaining({ t: 'err', code: 'AUTH_FAILED', msg: 'the auth webhook rejected the token' }),
    ])
    expect(closed.code).toBe(4500)
  })

  it('a webhook that does not answer in time fails the attempt with AUTH_FAILED', async () => {
    const hook = await webhook(() => 'hang')
    const { url } = await res.server({ auth: { anonymous: false, webhook: { url: hook.url, timeoutMs: 200 } } })
    const { messages, closed } = await attempt(url, 'any')
    expect(messages).toEqual([
      expect.objectContaining({ code: 'AUTH_FAILED', msg: 'the auth webhook did not answer in time' }),
    ])
    expect(closed.code).toBe(4500)
  })
})

describe('production mode', () => {
  it('refuses anonymous access without rules unless auth.anonymous: true is written explicitly', () => {
    const attempt = (input: SwitchboardConfigInput) => () =>
      createServer({ storage: { type: 'memory' }, log: { level: 'silent' }, ...input })
    expect(attempt({ mode: 'production' })).toThrow(ConfigError)
    expect(attempt({ mode: 'production' })).toThrow(
      /auth\.anonymous: production mode refuses anonymous access without a permissions file/,
    )
    expect(attempt({ mode: 'production', auth: { jwt: { secret: 'short' }, anonymous: false } })).toThrow(
      /auth\.jwt\.secret: production mode needs a secret of at least 32 bytes/,
    )
    const ok = [
      attempt({ mode: 'production', auth: { anonymous: true } }),
      attempt({ mode: 'production', auth: { anonymous: false, jwt: { secret: SECRET } } }),
      attempt({ mode: 'production', permissions: rulesFile("channels:\n  '**': { subscribe: 'true' }\n") }),
      attempt({}),
    ]
    for (const make of ok) void make().close()
  })

  it('a rules file that does not compile stops createServer with file, line and rule', () => {
    const file = rulesFile("channels:\n  'chat/*': { publish: 'user.id ==' }\n")
    expect(() => createServer({ permissions: file, log: { level: 'silent' } })).toThrow(
      /rules-\d+\.yaml:2:\d+ channels\.chat\/\*\.publish: syntax error: .* in rule "user\.id =="/,
    )
  })
})

const dir = mkdtempSync(join(tmpdir(), 'sb-auth-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
function rulesFile(text: string): string {
  const file = join(dir, `rules-${++files}.yaml`)
  writeFileSync(file, text)
  return file
}

describe('the address an authenticator sees', () => {
  // Without a per-address limit or a trusted proxy the WebSocket endpoint no longer reads the
  // peer address at upgrade (a syscall per connection); it is read when an authenticator asks.
  it.each([
    ['with the per-address limit', 100],
    ['without it (read on demand)', 0],
  ])('%s: the client address', async (_name, maxConnectionsPerIp) => {
    const seen: string[] = []
    const { url } = await res.server(
      { limits: { maxConnectionsPerIp } },
      {
        authenticator: {
          async authenticate(credentials) {
            seen.push(credentials.remoteAddress)
            return { user: null }
          },
        },
      },
    )
    await res.connected(url)
    expect(seen).toEqual(['127.0.0.1'])
  })

  it('without the limit, through a trusted proxy: the forwarded client address', async () => {
    const seen: string[] = []
    const { url } = await res.server(
      { limits: { maxConnectionsPerIp: 0 }, server: { trustProxy: ['loopback'] } },
      { authenticator: { authenticate: async (c) => (seen.push(c.remoteAddress), { user: null }) } },
    )
    const raw = res.add(await RawClient.open(url, { headers: { 'x-forwarded-for': '203.0.113.7' } }), (c) => c.close())
    await raw.waitFor((m) => m.t === 'welcome')
    expect(seen).toEqual(['203.0.113.7'])
  })
})
