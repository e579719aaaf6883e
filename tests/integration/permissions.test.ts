import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { Resources } from '../support/server.js'
import { RawClient } from '../support/raw-client.js'
import { hsToken, SECRET } from '../support/jwt.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-perm-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
function rules(text: string): string {
  const file = join(dir, `rules-${++files}.yaml`)
  writeFileSync(file, text)
  return file
}

const RULES = `
channels:
  '**':          { subscribe: 'true', publish: 'true', history: 'true' }
  'chat/secret': { subscribe: 'user != null && "admin" in user.roles' }
  'team/*':      { subscribe: 'user != null && "team" in user.roles', publish: 'true' }
  'users/*':     { subscribe: 'user != null && params[0] == user.id', publish: 'true', history: 'user != null && params[0] == user.id' }
  'limited/*':   { publish: 'user != null && size(data.text) <= 10' }
`
const config = (): SwitchboardConfigInput => ({
  auth: { jwt: { secret: SECRET } },
  permissions: rules(RULES),
  channels: { '**': { history: { size: 10 } } },
})

/** A raw connection authenticated as `sub` with `claims`. */
async function rawAs(url: string, sub: string | null, claims: Record<string, unknown> = {}): Promise<RawClient> {
  const token = sub === null ? undefined : await hsToken(sub, claims)
  return res.add(await RawClient.open(url, token === undefined ? {} : { token }), (x) => x.close())
}
const deliveries = (c: RawClient, ch?: string) =>
  c.messages.filter((m) => m.t === 'msg' && (ch === undefined || m.ch === ch))

describe('channel rules end to end', () => {
  it('denied subscribe, publish and history get PERMISSION_DENIED; nothing is delivered or stored', async () => {
    const { url } = await res.server(config())
    const bob = await rawAs(url, 'bob')
    const alice = await res.connected(url, { token: await hsToken('alice') })
    bob.send({ t: 'sub', id: 1, ch: 'users/alice' })
    bob.send({ t: 'hist', id: 2, ch: 'users/alice' })
    bob.send({ t: 'pub', id: 3, ch: 'limited/1', d: { text: 'far too long for the rule' } })
    for (const id of [1, 2, 3])
      expect(await bob.waitFor((m) => m.id === id)).toMatchObject({ t: 'err', code: 'PERMISSION_DENIED' })
    expect((await alice.history('limited/1')).publications).toEqual([]) // the denied publish left no trace
    await alice.publish('users/alice', 'private')
    bob.send({ t: 'sub', id: 4, ch: 'chat/lobby' })
    await bob.waitFor((m) => m.t === 'ok' && m.id === 4)
    await alice.publish('chat/lobby', 'public')
    await bob.waitFor((m) => m.t === 'msg' && m.ch === 'chat/lobby')
    expect(deliveries(bob, 'users/alice')).toEqual([])
  })

  it('a pattern subscription spanning allowed and denied channels delivers only the allowed ones', async () => {
    const { url } = await res.server(config())
    const eve = await rawAs(url, 'eve', { roles: ['member'] })
    eve.send({ t: 'sub', id: 1, ch: 'chat/*' })
    eve.send({ t: 'sub', id: 2, ch: '**' })
    eve.send({ t: 'sub', id: 3, ch: 'users/*' })
    for (const id of [1, 2]) await eve.waitFor((m) => m.t === 'ok' && m.id === id)
    expect(await eve.waitFor((m) => m.id === 3)).toMatchObject({ code: 'PERMISSION_DENIED' }) // `*` is not eve's id
    const admin = await res.connected(url, { token: await hsToken('root', { roles: ['admin'] }) })
    const seen: string[] = []
    await admin.subscribe('chat/*', (_d, info) => seen.push(info.channel)).ready
    for (const ch of ['chat/secret', 'users/alice', 'team/x', 'chat/secret', 'chat/lobby']) await admin.publish(ch, ch)
    await eve.waitFor((m) => m.t === 'msg' && m.ch === 'chat/lobby')
    await waitFor(() => seen.length === 3, 'the admin to get chat/secret twice and chat/lobby')
    // chat/lobby matches both patterns and arrives once; nothing denied leaked.
    expect(deliveries(eve).map((m) => m.ch)).toEqual(['chat/lobby'])
    expect(seen).toEqual(['chat/secret', 'chat/secret', 'chat/lobby'])
  })

  it('anonymous users: a rule reading user.id denies instead of failing', async () => {
    const { url } = await res.server(config())
    const anon = await rawAs(url, null)
    anon.send({ t: 'sub', id: 1, ch: 'users/alice' })
    expect(await anon.waitFor((m) => m.id === 1)).toMatchObject({ t: 'err', code: 'PERMISSION_DENIED' })
    anon.send({ t: 'sub', id: 2, ch: 'chat/lobby' })
    expect(await anon.waitFor((m) => m.id === 2)).toMatchObject({ t: 'ok' })
  })

  it('channel names with __proto__ segments are data, not keys: rules still match and nothing is polluted', async () => {
    const { url } = await res.server(config())
    const bob = await rawAs(url, 'bob')
    bob.send({ t: 'sub', id: 1, ch: 'users/__proto__' })
    expect(await bob.waitFor((m) => m.id === 1)).toMatchObject({ code: 'PERMISSION_DENIED' })
    bob.send({ t: 'sub', id: 2, ch: 'team/__proto__' })
    expect(await bob.waitFor((m) => m.id === 2)).toMatchObject({ code: 'PERMISSION_DENIED' })
    bob.send({ t: 'pub', id: 3, ch: 'x/__proto__/constructor', d: { a: 1 } })
    expect(await bob.waitFor((m) => m.id === 3)).toMatchObject({ t: 'ok' })
    expect(({} as Record<string, unknown>).a).toBeUndefined()
  })
})

describe('token refresh', () => {
  it('a refresh that loses a role ends that subscription (unsubbed, PERMISSION_DENIED) and nothing more arrives', async () => {
    const { url } = await res.server(config())
    const c = await rawAs(url, 'dana', { roles: ['team'] })
    c.send({ t: 'sub', id: 1, ch: 'team/alpha' })
    c.send({ t: 'sub', id: 2, ch: 'team/*' })
    c.send({ t: 'sub', id: 3, ch: 'chat/lobby' })
    for (const id of [1, 2, 3]) await c.waitFor((m) => m.t === 'ok' && m.id === id)
    const pub = await res.connected(url, { token: await hsToken('pub') })
    await pub.publish('team/alpha', 'before')
    await c.waitFor((m) => m.t === 'msg' && m.d === 'before' && m.ch === 'team/alpha')

    c.send({ t: 'refresh', id: 4, token: await hsToken('dana', { roles: [] }) })
    const ok = await c.waitFor((m) => m.id === 4)
    expect(ok).toMatchObject({ t: 'ok', r: { user: { id: 'dana', roles: [] } } })
    const ended = c.messages.filter((m) => m.t === 'unsubbed')
    expect(ended).toEqual([
      {
        t: 'unsubbed',
        ch: 'team/alpha',
        code: 'PERMISSION_DENIED',
        msg: 'no longer allowed to subscribe to team/alpha',
      },
      { t: 'unsubbed', ch: 'team/*', code: 'PERMISSION_DENIED', msg: 'no longer allowed to subscribe to team/*' },
    ])
    expect(c.messages.indexOf(ended[1]!)).toBeLessThan(c.messages.indexOf(ok)) // ended before the answer

    const count = deliveries(c).length
    await pub.publish('team/alpha', 'after')
    await pub.publish('chat/lobby', 'marker')
    await c.waitFor((m) => m.t === 'msg' && m.d === 'marker')
    expect(
      deliveries(c)
        .slice(count)
        .map((m) => m.d),
    ).toEqual(['marker'])
    c.send({ t: 'sub', id: 5, ch: 'team/alpha' })
    expect(await c.waitFor((m) => m.id === 5)).toMatchObject({ code: 'PERMISSION_DENIED' })
  })

  it('refresh to another user, or with a bad token, is refused and the session carries on as before', async () => {
    const { url } = await res.server(config())
    const c = await rawAs(url, 'dana', { roles: ['team'] })
    c.send({ t: 'sub', id: 1, ch: 'team/alpha' })
    await c.waitFor((m) => m.t === 'ok' && m.id === 1)
    c.send({ t: 'refresh', id: 2, token: await hsToken('root', { roles: ['admin'] }) })
    expect(await c.waitFor((m) => m.id === 2)).toMatchObject({
      t: 'err',
      code: 'AUTH_FAILED',
      msg: expect.stringMatching(/same user/),
    })
    c.send({ t: 'refresh', id: 3, token: await hsToken('dana', { roles: [] }, { secret: 'y'.repeat(48) }) })
    expect(await c.waitFor((m) => m.id === 3)).toMatchObject({ t: 'err', code: 'AUTH_FAILED' })
    c.send({ t: 'refresh', id: 4, token: await hsToken('dana', {}, { expiresIn: -3600 }) })
    expect(await c.waitFor((m) => m.id === 4)).toMatchObject({ t: 'err', code: 'TOKEN_EXPIRED' })
    c.send({ t: 'sub', id: 5, ch: 'chat/secret' })
    expect(await c.waitFor((m) => m.id === 5)).toMatchObject({ code: 'PERMISSION_DENIED' })
    expect(c.messages.filter((m) => m.t === 'unsubbed')).toEqual([])
    expect(c.closed).toBeUndefined()
  })

  it('a token that expires without a refresh closes the session with 4004 TOKEN_EXPIRED', async () => {
    const { url } = await res.server({ ...config(), auth: { jwt: { secret: SECRET, clockTolerance: 0 } } })
    const c = res.add(await RawClient.open(url, { hello: false }), (x) => x.close())
    c.send({ t: 'hello', id: 0, v: 1, token: await hsToken('dana', {}, { expiresIn: 1 }) })
    await c.waitFor((m) => m.t === 'welcome')
    expect((await c.waitClosed(5000)).code).toBe(4004)
  })

  it('the client refreshes before expiry on its own, keeping its connection and subscriptions', async () => {
    // The tolerance only gives a loaded machine slack: the client aims a second before `exp`.
    const { url } = await res.server({ ...config(), auth: { jwt: { secret: SECRET, clockTolerance: '5s' } } })
    let calls = 0
    const sb = await res.connected(url, {
      token: () => {
        calls++
        return hsToken('erin', { roles: ['team'], n: calls }, { expiresIn: 3 })
      },
    })
    const clientId = sb.clientId
    const got: unknown[] = []
    await sb.subscribe('team/alpha', (d) => got.push(d)).ready
    await waitFor(() => sb.user?.n === 2, 'the first refresh', 10_000)
    const pub = await res.connected(url, { token: await hsToken('pub') })
    await pub.publish('team/alpha', 'still here')
    await waitFor(() => got.includes('still here'), 'a delivery after the refresh')
    expect(sb.clientId).toBe(clientId) // same connection: nothing was dropped
    expect(sb.state).toBe('connected')
  })

  it('when the refresh fails, expiry closes the session and the client reconnects with a new token', async () => {
    const { url } = await res.server({ ...config(), auth: { jwt: { secret: SECRET, clockTolerance: 0 } } })
    let calls = 0
    const errors: string[] = []
    const sb = res.client(url, {
      token: () => {
        calls++
        if (calls === 2) return Promise.reject(new Error('identity provider down'))
        return hsToken('erin', { roles: ['team'], n: calls }, { expiresIn: 2 })
      },
    })
    sb.on('error', (e) => errors.push(e.message))
    await sb.connect()
    const first = sb.clientId
    const got: unknown[] = []
    await sb.subscribe('team/alpha', (d) => got.push(d)).ready
    await waitFor(() => sb.clientId !== first && sb.state === 'connected', 'a reconnect after expiry', 10_000)
    expect(errors.some((m) => m.includes('identity provider down'))).toBe(true)
    expect(sb.user?.n).toBeGreaterThanOrEqual(3) // a later refresh may already have happened
    const pub = await res.connected(url, { token: await hsToken('pub') })
    await waitFor(async () => {
      await pub.publish('team/alpha', 'restored')
      return got.includes('restored')
    }, 'the restored subscription to receive')
  })
})
