import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SwitchboardError } from '@switchboard/client'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { hsToken, SECRET } from '../support/jwt.js'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { nextEvent } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-record-rules-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// SPEC §3's record rules, plus a staff-only collection and a write-only one.
const RULES = `
records:
  'todos/*':  { read: 'true', write: 'user != null && user.id == data.owner', delete: 'user != null && user.id == old.owner' }
  'staff/*':  { read: 'user != null && "staff" in user.roles', write: 'user != null && "staff" in user.roles' }
  'inbox/*':  { read: 'false', write: 'true' }
`
const config = (): SwitchboardConfigInput => {
  const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, RULES)
  return { auth: { jwt: { secret: SECRET } }, permissions: file }
}

async function rawAs(url: string, sub: string, claims: Record<string, unknown> = {}): Promise<RawClient> {
  return res.add(await RawClient.open(url, { token: await hsToken(sub, claims) }), (x) => x.close())
}

describe('records under permission rules (CEL)', () => {
  it('write rules see the resulting document as data, delete rules the current one as old', async () => {
    const { url } = await res.server(config())
    const alice = await res.connected(url, { token: await hsToken('alice') })
    const bob = await res.connected(url, { token: await hsToken('bob') })
    const a = alice.record('todos/1')
    const b = bob.record('todos/1')
    await Promise.all([a.ready, b.ready])
    await a.set({ owner: 'alice', title: 'mine' })
    await expect(b.set('title', 'taken over')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(b.set('owner', 'bob')).resolves.toBeDefined() // the rule allows it: data.owner is bob afterwards
    await expect(a.set('title', 'back')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(a.delete()).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(b.delete()).resolves.toEqual({ version: 3 })
  })

  it('read rules gate subscriptions and reads; a token refresh that drops the role ends the subscription', async () => {
    const { url, server } = await res.server(config())
    await server.records.set('staff/notes', { text: 'internal' })
    const guest = await res.connected(url, { token: await hsToken('g', { roles: [] }) })
    await expect(guest.record('staff/notes').ready).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(guest.records.get('staff/notes')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })

    const staff = await rawAs(url, 's', { roles: ['staff'] })
    staff.send({ t: 'rsub', id: 1, n: 'staff/notes' })
    expect((await staff.waitFor((m) => m.id === 1)).r).toEqual({ v: 1, d: { text: 'internal' } })
    staff.send({ t: 'refresh', id: 2, token: await hsToken('s', { roles: [] }) })
    expect(await staff.waitFor((m) => m.t === 'rend')).toMatchObject({
      t: 'rend',
      n: 'staff/notes',
      code: 'PERMISSION_DENIED',
    })
    await server.records.set('staff/notes', 'text', 'after')
    staff.send({ t: 'ping' })
    await staff.waitFor((m) => m.t === 'pong')
    expect(staff.messages.filter((m) => m.t === 'rchg')).toEqual([])
  })

  it('the client reports an ended subscription as an error on the record', async () => {
    const { url, server } = await res.server(config())
    await server.records.set('staff/plan', { step: 1 })
    let roles = ['staff']
    const sb = await res.connected(url, { token: () => hsToken('s', { roles }, { expiresIn: 2 }) })
    const rec = sb.record('staff/plan')
    await rec.ready
    const ended = nextEvent<SwitchboardError>((l) => rec.on('error', l), 'the subscription to end', 15_000)
    roles = []
    expect((await ended).message).toBe('no longer allowed to read staff/plan')
  })

  it('VERSION_CONFLICT carries the current data only for those who may read it', async () => {
    const { url } = await res.server(config())
    const c = await rawAs(url, 'x')
    c.send({ t: 'rset', id: 1, n: 'inbox/1', d: { msg: 'secret' } })
    expect((await c.waitFor((m) => m.id === 1)).r).toEqual({ v: 1 })
    c.send({ t: 'rset', id: 2, n: 'inbox/1', d: { msg: 'again' }, iv: 0 })
    const err = await c.waitFor((m) => m.id === 2)
    expect(err).toMatchObject({ t: 'err', code: 'VERSION_CONFLICT', data: { version: 1 } })
    expect((err.data as Record<string, unknown>).data).toBeUndefined()
  })
})
