import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { Resources } from '../support/server.js'
import { RawClient } from '../support/raw-client.js'
import { hsToken, SECRET } from '../support/jwt.js'

/**
 * Attacks on records, RPC and presence through a real rules file and real JWTs: each asserts
 * the exact refusal and that nothing leaked (no data in answers, no change to the victim's
 * state, no pushes to anyone).
 */
const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-attacks-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const RULES = `
records:
  'todos/*':
    read:   'user != null && old.owner == user.id'
    write:  'user != null && data.owner == user.id && (old == null || old.owner == user.id)'
    delete: 'user != null && old.owner == user.id'
rpc:
  'admin/*': { provide: 'user != null && "worker" in user.roles', call: 'user != null && "admin" in user.roles' }
presence:
  'rooms/*': { join: 'user != null', read: 'user != null' }
`
let files = 0
function config(): SwitchboardConfigInput {
  const file = join(dir, `rules-${++files}.yaml`)
  writeFileSync(file, RULES)
  return { auth: { jwt: { secret: SECRET } }, permissions: file }
}

async function as(
  url: string,
  sub: string | null,
  claims: Record<string, unknown> = {},
): Promise<RawClient & { ask(m: Record<string, unknown>): Promise<Record<string, unknown>> }> {
  const c = res.add(await RawClient.open(url, { hello: false }), (x) => x.close())
  c.send(sub === null ? { t: 'hello', id: 0, v: 1 } : { t: 'hello', id: 0, v: 1, token: await hsToken(sub, claims) })
  await c.waitFor((m) => m.t === 'welcome')
  let next = 100
  return Object.assign(c, {
    ask(m: Record<string, unknown>) {
      const id = next++
      c.send({ ...m, id })
      return c.waitFor((x) => x.id === id && (x.t === 'ok' || x.t === 'err'))
    },
  })
}
const denied = { t: 'err', code: 'PERMISSION_DENIED' }

describe("another user's record", () => {
  it('reading, subscribing, writing (whole, path, ops) and deleting are denied; nothing leaks or changes', async () => {
    const { url } = await res.server(config())
    const alice = await as(url, 'alice')
    expect(await alice.ask({ t: 'rset', n: 'todos/a1', d: { owner: 'alice', title: 'secret plan' } })).toMatchObject({
      t: 'ok',
      r: { v: 1 },
    })
    expect(await alice.ask({ t: 'rsub', n: 'todos/a1' })).toMatchObject({ t: 'ok', r: { v: 1 } })
    const bob = await as(url, 'bob')
    const attempts: Record<string, unknown>[] = [
      { t: 'rget', n: 'todos/a1' },
      { t: 'rsub', n: 'todos/a1' },
      { t: 'rset', n: 'todos/a1', d: { owner: 'bob', title: 'mine now' } },
      { t: 'rset', n: 'todos/a1', d: { owner: 'alice', title: 'forged in her name' } },
      { t: 'rset', n: 'todos/a1', p: 'title', d: 'pwned' },
      { t: 'rset', n: 'todos/a1', p: 'owner', d: 'bob' },
      { t: 'rupd', n: 'todos/a1', ops: { unset: ['title'] } },
      { t: 'rdel', n: 'todos/a1' },
    ]
    for (const m of attempts) {
      const answer = await bob.ask(m)
      expect(answer, JSON.stringify(m)).toMatchObject(denied)
      expect(JSON.stringify(answer)).not.toContain('secret plan')
    }
    // A version probe gets the conflict but never the content.
    const conflict = await bob.ask({ t: 'rset', n: 'todos/a1', d: { owner: 'bob' }, iv: 99 })
    expect(conflict).toMatchObject({ t: 'err', code: 'VERSION_CONFLICT' })
    expect(JSON.stringify(conflict)).not.toContain('secret plan')
    // Anonymous: the same.
    const anon = await as(url, null)
    expect(await anon.ask({ t: 'rget', n: 'todos/a1' })).toMatchObject(denied)
    expect(await anon.ask({ t: 'rset', n: 'todos/a1', d: { owner: null } })).toMatchObject(denied)
    // Alice's record is untouched and she saw no change.
    expect(await alice.ask({ t: 'rget', n: 'todos/a1' })).toMatchObject({
      t: 'ok',
      r: { v: 1, d: { owner: 'alice', title: 'secret plan' } },
    })
    expect(alice.messages.filter((m) => m.t === 'rchg')).toEqual([])
    expect(bob.messages.filter((m) => m.t === 'rchg')).toEqual([])
  })

  it('__proto__ in record paths and data keys is refused; the prototype is untouched', async () => {
    const { url } = await res.server(config())
    const alice = await as(url, 'alice')
    await alice.ask({ t: 'rset', n: 'todos/a2', d: { owner: 'alice' } })
    for (const p of ['__proto__.polluted', 'a.constructor.prototype.polluted', 'prototype']) {
      const answer = await alice.ask({ t: 'rset', n: 'todos/a2', p, d: true })
      expect(answer, p).toMatchObject({ t: 'err' })
      expect(['INVALID_DATA', 'INVALID_MESSAGE']).toContain(answer.code)
    }
    const keyed = await alice.ask({
      t: 'rset',
      n: 'todos/a2',
      d: JSON.parse('{"owner":"alice","__proto__":{"polluted":true}}'),
    })
    expect(keyed).toMatchObject({ t: 'err', code: 'INVALID_DATA' })
    const ops = await alice.ask({ t: 'rupd', n: 'todos/a2', ops: { increment: { '__proto__.polluted': 1 } } })
    expect(ops).toMatchObject({ t: 'err' })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(await alice.ask({ t: 'rget', n: 'todos/a2' })).toMatchObject({ r: { v: 1, d: { owner: 'alice' } } })
  })
})

describe('protected RPC names', () => {
  it('providing or calling a protected name without the role is denied; nothing is routed to the intruder', async () => {
    const { url } = await res.server(config())
    const eve = await as(url, 'eve', { roles: ['member'] })
    expect(await eve.ask({ t: 'prov', n: 'admin/wipe' })).toMatchObject(denied)
    const worker = await as(url, 'w', { roles: ['worker'] })
    expect(await worker.ask({ t: 'prov', n: 'admin/wipe' })).toMatchObject({ t: 'ok' })
    expect(await eve.ask({ t: 'rpc', n: 'admin/wipe', a: {} })).toMatchObject(denied)
    const admin = await as(url, 'root', { roles: ['admin'] })
    admin.send({ t: 'rpc', id: 7, n: 'admin/wipe', a: { all: true } })
    const inv = await worker.waitFor((m) => m.t === 'inv')
    expect(inv).toMatchObject({ n: 'admin/wipe', a: { all: true }, u: { id: 'root', roles: ['admin'] } })
    worker.send({ t: 'rpcres', c: inv.c, r: 'done' })
    expect(await admin.waitFor((m) => m.id === 7)).toMatchObject({ t: 'ok', r: 'done' })
    expect(eve.messages.filter((m) => m.t === 'inv')).toEqual([])
    expect(worker.messages.filter((m) => m.t === 'inv')).toHaveLength(1) // eve's denied call never reached it
  })

  it('a token refresh that drops the role ends the registration (provend) and calls stop reaching it', async () => {
    const { url } = await res.server(config())
    const worker = await as(url, 'w', { roles: ['worker'] })
    expect(await worker.ask({ t: 'prov', n: 'admin/wipe' })).toMatchObject({ t: 'ok' })
    expect(await worker.ask({ t: 'refresh', token: await hsToken('w', { roles: [] }) })).toMatchObject({ t: 'ok' })
    expect(worker.messages.find((m) => m.t === 'provend')).toMatchObject({ n: 'admin/wipe', code: 'PERMISSION_DENIED' })
    const admin = await as(url, 'root', { roles: ['admin'] })
    expect(await admin.ask({ t: 'rpc', n: 'admin/wipe', a: {}, to: 2000 })).toMatchObject({
      t: 'err',
      code: 'NO_PROVIDER',
    })
    expect(worker.messages.filter((m) => m.t === 'inv')).toEqual([])
  })
})

describe('presence identity', () => {
  it("joining under another user's id is impossible: members carry the authenticated id, whatever the metadata says", async () => {
    const { url } = await res.server(config())
    const alice = await as(url, 'alice')
    expect(await alice.ask({ t: 'pwatch', r: 'rooms/1' })).toMatchObject({ t: 'ok' })
    await alice.waitFor((m) => m.t === 'psnap')
    const eve = await as(url, 'eve')
    expect(
      await eve.ask({ t: 'pjoin', r: 'rooms/1', m: { userId: 'alice', u: 'alice', name: 'Alice' } }),
    ).toMatchObject({ t: 'ok' })
    const diff = await alice.waitFor((m) => m.t === 'pdiff' || (m.t === 'psnap' && (m.m as unknown[]).length > 0))
    const members = (diff.j ?? diff.m) as { u: string | null; c: string; m?: unknown }[]
    expect(members).toHaveLength(1)
    expect(members[0]!.u).toBe('eve')
    const anon = await as(url, null)
    expect(await anon.ask({ t: 'pjoin', r: 'rooms/1', m: { userId: 'alice' } })).toMatchObject(denied)
    expect(await anon.ask({ t: 'pwatch', r: 'rooms/1' })).toMatchObject(denied)
    expect(anon.messages.filter((m) => m.t === 'psnap' || m.t === 'pdiff')).toEqual([])
    expect(await eve.ask({ t: 'pjoin', r: 'lobby', m: {} })).toMatchObject(denied) // no rule: denied by default
  })
})
