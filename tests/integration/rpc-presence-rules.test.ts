import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SwitchboardError } from '@switchboard/client'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { hsToken, SECRET } from '../support/jwt.js'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-rpc-rules-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// SPEC §3's example rules, plus presence rooms that need a role.
const RULES = `
rpc:
  'math/*':   { provide: 'user != null && "worker" in user.roles', call: 'true' }
  'admin/*':  { provide: 'user != null && "worker" in user.roles', call: 'user != null && "admin" in user.roles' }
presence:
  '**':       { join: 'user != null', read: 'true' }
  'staff/*':  { join: 'user != null && "staff" in user.roles', read: 'user != null && "staff" in user.roles' }
  '$global':  { join: 'user != null && size(data.status) <= 10', read: 'user != null' }
`
const config = (): SwitchboardConfigInput => {
  const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, RULES)
  return { auth: { jwt: { secret: SECRET } }, permissions: file }
}

async function rawAs(url: string, sub: string, claims: Record<string, unknown> = {}): Promise<RawClient> {
  return res.add(await RawClient.open(url, { token: await hsToken(sub, claims) }), (x) => x.close())
}

describe('rpc and presence under permission rules (CEL)', () => {
  it('provide needs the worker role; call follows its own rule; anonymous callers are denied when a rule needs a user', async () => {
    const { url } = await res.server(config())
    const worker = await res.connected(url, { token: await hsToken('w', { roles: ['worker'] }) })
    const plain = await res.connected(url, { token: await hsToken('p', { roles: [] }) })
    const admin = await res.connected(url, { token: await hsToken('a', { roles: ['admin'] }) })
    await expect(plain.rpc.provide('math/add', () => 0).ready).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await worker.rpc.provide('math/add', (x: { a: number; b: number }) => x.a + x.b).ready
    await worker.rpc.provide('admin/reset', () => 'reset').ready
    expect(await plain.rpc.call('math/add', { a: 2, b: 3 })).toBe(5)
    await expect(plain.rpc.call('admin/reset')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    expect(await admin.rpc.call('admin/reset')).toBe('reset')
    await expect(plain.rpc.call('other/thing')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' }) // no rule: denied
  })

  it('presence: join and read rules per room, with data = the meta; the global room has its own rule', async () => {
    const { url } = await res.server(config())
    const staff = await res.connected(url, { token: await hsToken('s', { roles: ['staff'] }) })
    const guest = await res.connected(url, { token: await hsToken('g', { roles: [] }) })
    await expect(guest.presence('staff/room').join()).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await staff.presence('staff/room').join({ desk: 1 })
    await guest.presence().join({ status: 'ok' })
    await expect(staff.presence().join({ status: 'far too long a status' })).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    })
    const refused = nextEvent<SwitchboardError>((l) => guest.presence('staff/room').on('error', l), 'the refusal')
    guest.presence('staff/room').subscribe(() => {})
    expect((await refused).code).toBe('PERMISSION_DENIED')
    const members: string[][] = []
    staff.presence().subscribe((m) => members.push(m.map((x) => x.userId ?? '')))
    await waitFor(() => members.at(-1)?.join() === 'g', 'the global member list')
  })

  it('a token refresh that loses a role ends providers, joins and watches, and tells the client', async () => {
    const { url } = await res.server(config())
    const c = await rawAs(url, 'dana', { roles: ['worker', 'staff'] })
    c.send({ t: 'prov', id: 1, n: 'math/mul' })
    c.send({ t: 'pjoin', id: 2, r: 'staff/room', m: { at: 'desk' } })
    c.send({ t: 'pwatch', id: 3, r: 'staff/room' })
    c.send({ t: 'pjoin', id: 4, r: 'open/room' })
    for (const id of [1, 2, 3, 4]) expect(await c.waitFor((m) => m.id === id)).toMatchObject({ t: 'ok' })
    const viewer = await res.connected(url, { token: await hsToken('v', { roles: ['staff'] }) })
    const seen: string[][] = []
    viewer.presence('staff/room').subscribe((m) => seen.push(m.map((x) => x.userId ?? '')))
    await waitFor(() => seen.at(-1)?.join() === 'dana', 'dana in the room')

    c.send({ t: 'refresh', id: 5, token: await hsToken('dana', { roles: [] }) })
    expect(await c.waitFor((m) => m.id === 5)).toMatchObject({ t: 'ok' })
    const ended = c.messages.filter((m) => m.t === 'provend' || m.t === 'pend')
    expect(ended).toEqual([
      { t: 'provend', n: 'math/mul', code: 'PERMISSION_DENIED', msg: 'no longer allowed to provide math/mul' },
      {
        t: 'pend',
        r: 'staff/room',
        what: 'join',
        code: 'PERMISSION_DENIED',
        msg: 'no longer allowed to join staff/room',
      },
      {
        t: 'pend',
        r: 'staff/room',
        what: 'watch',
        code: 'PERMISSION_DENIED',
        msg: 'no longer allowed to read staff/room',
      },
    ])
    await waitFor(() => seen.at(-1)?.length === 0, 'dana to leave the staff room')
    const caller = await res.connected(url, { token: await hsToken('x') })
    await expect(caller.rpc.call('math/mul', 1)).rejects.toMatchObject({ code: 'NO_PROVIDER' })
    // Still in the room its claims allow.
    const open = await viewerOf(url, 'open/room')
    await waitFor(() => open.at(-1)?.join() === 'dana', 'dana still in open/room')
  })

  it('the client fails a provider the server ended, and emits the presence error on the room', async () => {
    const { url } = await res.server(config())
    const token = await hsToken('erin', { roles: ['worker', 'staff'] })
    const sb = await res.connected(url, { token })
    const p = sb.rpc.provide('math/sub', (x: [number, number]) => x[0] - x[1])
    await p.ready
    await sb.presence('staff/desk').join()
    const providerError = nextEvent<SwitchboardError>((l) => p.on('error', l), 'provider error')
    const roomError = nextEvent<SwitchboardError>((l) => sb.presence('staff/desk').on('error', l), 'room error')
    // A raw refresh on the same session is not possible from outside; use the client's connection.
    const conn = (sb as unknown as { connection: { request(b: unknown): Promise<unknown> } }).connection
    await conn.request({ t: 'refresh', token: await hsToken('erin', { roles: [] }) })
    expect((await providerError).code).toBe('PERMISSION_DENIED')
    expect((await roomError).code).toBe('PERMISSION_DENIED')
    expect(p.providing).toBe(false)
  })
})

async function viewerOf(url: string, room: string): Promise<string[][]> {
  const v = await res.connected(url, { token: await hsToken('viewer') })
  const seen: string[][] = []
  v.presence(room).subscribe((m) => seen.push(m.map((x) => x.userId ?? '')))
  return seen
}
