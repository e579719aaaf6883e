import { afterEach, describe, expect, it } from 'vitest'
import { SwitchboardError, type PresenceMember, type Switchboard } from '@switchboard/client'
import { signDevelopmentToken, type AccessRequest, type SwitchboardConfigInput } from '@switchboard/server'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const SECRET = 'presence-test-secret-of-at-least-32-bytes'
const withJwt = (extra: SwitchboardConfigInput = {}): SwitchboardConfigInput => ({
  auth: { jwt: { secret: SECRET } },
  ...extra,
})

/** The latest member list a room's subscriber saw. */
function watch(sb: Switchboard, channel?: string) {
  const room = sb.presence(channel)
  const seen = { members: [] as PresenceMember[], calls: 0 }
  room.subscribe((members) => {
    seen.members = members
    seen.calls++
  })
  return seen
}

const ids = (ms: PresenceMember[]) => ms.map((m) => m.clientId).sort()

describe('presence', () => {
  it('join, update by joining again, leave: seen by other clients, with join/update/leave events', async () => {
    const { url } = await res.server()
    const [a, b] = [await res.connected(url), await res.connected(url)]
    const seen = watch(a, 'chat/lobby')
    const events: string[] = []
    const room = a.presence('chat/lobby')
    for (const kind of ['join', 'update', 'leave'] as const)
      room.on(kind, (m) => events.push(`${kind}:${(m.meta as { s?: string })?.s}`))
    await waitFor(() => seen.calls > 0, 'the first snapshot')
    expect(seen.members).toEqual([])

    await b.presence('chat/lobby').join({ s: 'idle' })
    await waitFor(() => seen.members.length === 1, 'b to appear')
    expect(seen.members[0]).toEqual({ userId: null, clientId: b.clientId, meta: { s: 'idle' } })

    await b.presence('chat/lobby').join({ s: 'typing' })
    await waitFor(() => (seen.members[0]?.meta as { s: string }).s === 'typing', 'the update')
    expect(seen.members).toHaveLength(1)

    await b.presence('chat/lobby').leave()
    await waitFor(() => seen.members.length === 0, 'b to leave')
    expect(events).toEqual(['join:idle', 'update:typing', 'leave:typing'])
    expect(room.members).toEqual([])
  })

  it('the global room and channel rooms are separate; the same handle is returned per channel', async () => {
    const { url, server } = await res.server()
    const [a, b] = [await res.connected(url), await res.connected(url)]
    expect(a.presence('x/1')).toBe(a.presence('x/1'))
    expect(a.presence()).toBe(a.presence())
    await a.presence().join({ where: 'home' })
    await b.presence('x/1').join()
    const global = watch(b)
    await waitFor(() => global.members.length === 1, 'global snapshot')
    expect(global.members[0]).toMatchObject({ clientId: a.clientId, meta: { where: 'home' } })
    expect(ids(await server.presence.members())).toEqual([a.clientId])
    expect(await server.presence.members('x/1')).toEqual([{ userId: null, clientId: b.clientId, meta: null }])
    expect(await server.presence.count('x/1')).toBe(1)
    expect(() => b.presence('bad name')).toThrow(SwitchboardError)
  })

  it('several connections of one user are distinct clients of one user', async () => {
    const { url, server } = await res.server(withJwt())
    const alice = await signDevelopmentToken(server.config, { user: 'alice' })
    const bob = await signDevelopmentToken(server.config, { user: 'bob' })
    const [tab1, tab2, other, viewer] = [
      await res.connected(url, { token: alice }),
      await res.connected(url, { token: alice }),
      await res.connected(url, { token: bob }),
      await res.connected(url, { token: bob }),
    ]
    const seen = watch(viewer, 'doc/7')
    await Promise.all([tab1, tab2, other].map((c) => c.presence('doc/7').join({ tab: c.clientId })))
    await waitFor(() => seen.members.length === 3, 'three members')
    const alices = seen.members.filter((m) => m.userId === 'alice')
    expect(ids(alices)).toEqual([tab1.clientId, tab2.clientId].sort())
    await tab1.close()
    await waitFor(() => seen.members.length === 2, 'tab1 to leave')
    expect(seen.members.filter((m) => m.userId === 'alice').map((m) => m.clientId)).toEqual([tab2.clientId])
  })

  it('no ghosts: a connection that goes silent leaves within the heartbeat timeout, and rejoins after reconnecting', async () => {
    const heartbeat = { intervalMs: 100, timeoutMs: 400 }
    const { url, port } = await res.server({ server: { heartbeat } })
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const viewer = await res.connected(url)
    const flaky = await res.connected(proxy.url)
    const seen = watch(viewer, 'game/1')
    const flakySeen = watch(flaky, 'game/1')
    await flaky.presence('game/1').join({ hp: 10 })
    const firstId = flaky.clientId
    await waitFor(() => seen.members.length === 1, 'flaky to appear')

    proxy.silence() // the peer is dead but no TCP close: only the heartbeat can tell
    await waitFor(() => seen.members.length === 0, 'the ghost to be removed', 5000)
    proxy.silence(false)
    // The client notices too, reconnects, and its join and watch are restored.
    await waitFor(() => seen.members.length === 1 && seen.members[0]!.clientId !== firstId, 'the rejoin', 10_000)
    expect(seen.members[0]).toMatchObject({ clientId: flaky.clientId, meta: { hp: 10 } })
    await waitFor(() => ids(flakySeen.members).join() === [flaky.clientId].join(), "flaky's own restored view")
  })

  it('batches diffs: many joins within a window reach a watcher as few frames, identical for every watcher', async () => {
    const { url } = await res.server({ presence: { batchMs: 300 } })
    const watchers = [await RawClient.open(url), await RawClient.open(url)]
    for (const w of watchers) {
      res.add(w, (c) => c.close())
      w.send({ t: 'pwatch', id: 1, r: 'big/room' })
      await w.waitFor((m) => m.t === 'psnap')
    }
    const joiners = await Promise.all(Array.from({ length: 20 }, () => res.connected(url)))
    await Promise.all(joiners.map((j, i) => j.presence('big/room').join({ i })))
    const members = (w: RawClient) => {
      const set = new Set<string>()
      for (const m of w.messages) {
        if (m.t !== 'pdiff') continue
        for (const j of (m.j as { c: string }[] | undefined) ?? []) set.add(j.c)
      }
      return set
    }
    await waitFor(() => watchers.every((w) => members(w).size === 20), 'every join in the diffs')
    const diffs = watchers.map((w) => w.messages.filter((m) => m.t === 'pdiff'))
    expect(diffs[0]!.length).toBeLessThan(20)
    expect(diffs[0]).toEqual(diffs[1]) // one frame per window, the same for all watchers
  })

  it('counts-only: watchers get counts instead of member lists; configured rooms refuse member lists', async () => {
    const { url } = await res.server({ presence: { countsOnly: ['stadium/**'] } })
    const [fan1, fan2, viewer] = [await res.connected(url), await res.connected(url), await res.connected(url)]
    const counts: number[] = []
    viewer.presence('stadium/final').subscribeCount((n) => counts.push(n))
    await waitFor(() => counts.length > 0, 'the first count')
    await fan1.presence('stadium/final').join()
    await fan2.presence('stadium/final').join()
    await waitFor(() => counts.at(-1) === 2, 'count 2')
    await fan1.close()
    await waitFor(() => counts.at(-1) === 1, 'count 1')
    expect(viewer.presence('stadium/final').members).toEqual([])

    const refused = nextEvent<SwitchboardError>((l) => viewer.presence('stadium/semi').on('error', l), 'the refusal')
    viewer.presence('stadium/semi').subscribe(() => {})
    expect((await refused).code).toBe('PERMISSION_DENIED')

    // Any room may be watched counts-only; on the wire only pcount frames arrive.
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    raw.send({ t: 'pwatch', id: 1, r: 'small/room', cnt: true })
    await raw.waitFor((m) => m.t === 'pcount' && m.n === 0)
    await fan2.presence('small/room').join({ big: 'meta' })
    await raw.waitFor((m) => m.t === 'pcount' && m.n === 1)
    expect(raw.messages.filter((m) => m.t === 'psnap' || m.t === 'pdiff')).toEqual([])
  })

  it('permission rules decide who may join and who may read', async () => {
    const policy = {
      allows: (r: AccessRequest) =>
        r.kind !== 'presence' || (r.action === 'join' ? r.name !== 'vip/room' : r.name !== 'secret/room'),
    }
    const { url } = await res.server({}, { policy })
    const sb = await res.connected(url)
    await expect(sb.presence('vip/room').join()).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    const refused = nextEvent<SwitchboardError>((l) => sb.presence('secret/room').on('error', l), 'the refusal')
    sb.presence('secret/room').subscribe(() => {})
    expect((await refused).code).toBe('PERMISSION_DENIED')
    await sb.presence('open/room').join()
  })

  it('a join made while disconnected resolves once it is restored', async () => {
    const { url, port } = await res.server()
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const viewer = await res.connected(url)
    const sb = await res.connected(proxy.url)
    const seen = watch(viewer, 'later/room')
    const lost = nextEvent((l) => sb.on('state', l), 'disconnect')
    proxy.down()
    await lost
    const joined = sb.presence('later/room').join({ late: true })
    proxy.up()
    await joined
    await waitFor(() => seen.members.length === 1, 'the restored join')
    expect(seen.members[0]).toMatchObject({ clientId: sb.clientId, meta: { late: true } })
  })
})
