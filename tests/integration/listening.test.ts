import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { Switchboard } from '@switchboard/client'
import { MemoryHub, type SwitchboardConfigInput } from '@switchboard/server'
import { hsToken, SECRET } from '../support/jwt.js'
import { ManualClock } from '@switchboard/server/contract'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-listen-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** No grace period: a name is vacant as soon as its last subscriber leaves. */
const NO_GRACE: SwitchboardConfigInput = { hooks: { graceMs: 0 } }

type Seen = [name: string, active: boolean][]

/** Starts a listener that records what it is told; resolves once it is registered. */
async function listening(sb: Switchboard, pattern: string, kind: 'channel' | 'record' = 'channel') {
  const seen: Seen = []
  const listener = sb.listen(pattern, (name, { active }) => seen.push([name, active]), { kind })
  await listener.ready
  return { listener, seen }
}

const told = (seen: Seen, count: number, what: string) => waitFor(() => seen.length >= count, what)

describe('listening: a listener hears first subscribe and last unsubscribe', () => {
  it('channels: active on the first subscriber, nothing for the second, inactive when the last leaves', async () => {
    const { url } = await res.server(NO_GRACE)
    const feeder = await res.connected(url)
    const [a, b] = [await res.connected(url), await res.connected(url)]
    const { seen } = await listening(feeder, 'prices/*')
    const subA = a.subscribe('prices/AAPL', () => {})
    await subA.ready
    await told(seen, 1, 'active:true')
    const subB = b.subscribe('prices/AAPL', () => {})
    await subB.ready
    subA.unsubscribe()
    // A marker: anything the second subscriber or the first unsubscribe caused would come first.
    await a.subscribe('prices/MSFT', () => {}).ready
    await told(seen, 2, 'the marker')
    expect(seen).toEqual([
      ['prices/AAPL', true],
      ['prices/MSFT', true],
    ])
    subB.unsubscribe()
    await told(seen, 3, 'active:false')
    expect(seen[2]).toEqual(['prices/AAPL', false])
  })

  it('records: the same for record subscriptions, and channel listeners do not hear records', async () => {
    const { url } = await res.server(NO_GRACE)
    const feeder = await res.connected(url)
    const reader = await res.connected(url)
    const records = await listening(feeder, 'todos/*', 'record')
    const channels = await listening(feeder, 'todos/*', 'channel')
    const rec = reader.record('todos/1')
    await rec.ready
    await told(records.seen, 1, 'record active')
    rec.discard()
    await told(records.seen, 2, 'record inactive')
    expect(records.seen).toEqual([
      ['todos/1', true],
      ['todos/1', false],
    ])
    await reader.subscribe('todos/1', () => {}).ready
    await told(channels.seen, 1, 'channel active')
    expect(channels.seen).toEqual([['todos/1', true]])
    expect(records.seen).toHaveLength(2)
  })

  it('pattern subscriptions occupy nothing; names outside the pattern are not told', async () => {
    const { url } = await res.server(NO_GRACE)
    const feeder = await res.connected(url)
    const sub = await res.connected(url)
    const { seen } = await listening(feeder, 'prices/*')
    await sub.subscribe('prices/*', () => {}).ready
    await sub.subscribe('news/today', () => {}).ready
    await sub.subscribe('prices/deep/er', () => {}).ready
    await sub.subscribe('prices/X', () => {}).ready
    await told(seen, 1, 'prices/X')
    expect(seen).toEqual([['prices/X', true]])
  })

  it('one listener per name: the second waits, and takes over (told active) when the first disconnects', async () => {
    const { url } = await res.server(NO_GRACE)
    const [first, second] = [await res.connected(url), await res.connected(url)]
    const sub = await res.connected(url)
    const one = await listening(first, 'prices/*')
    const two = await listening(second, '**')
    await sub.subscribe('prices/AAPL', () => {}).ready
    await told(one.seen, 1, 'the first listener')
    await first.close()
    await told(two.seen, 1, 'the takeover')
    expect(two.seen).toEqual([['prices/AAPL', true]])
    // Closing the client ended its names locally too, so a feed can stop.
    expect(one.seen).toEqual([
      ['prices/AAPL', true],
      ['prices/AAPL', false],
    ])
  })

  it('a listener that stops hands its names over; its handler hears nothing more', async () => {
    const { url } = await res.server(NO_GRACE)
    const [first, second] = [await res.connected(url), await res.connected(url)]
    const sub = await res.connected(url)
    const one = await listening(first, 'prices/*')
    await sub.subscribe('prices/A', () => {}).ready
    await told(one.seen, 1, 'active')
    const two = await listening(second, 'prices/*')
    await one.listener.stop()
    await told(two.seen, 1, 'the takeover')
    expect(two.seen).toEqual([['prices/A', true]])
    expect(one.listener.active.size).toBe(0)
    expect(one.seen).toEqual([['prices/A', true]])
  })

  it('a late listener is told about names already active', async () => {
    const { url } = await res.server(NO_GRACE)
    const sub = await res.connected(url)
    await sub.subscribe('prices/A', () => {}).ready
    await sub.subscribe('prices/B', () => {}).ready
    await sub.subscribe('other/C', () => {}).ready
    const feeder = await res.connected(url)
    const { seen, listener } = await listening(feeder, 'prices/*')
    await told(seen, 2, 'both active names')
    expect(seen.map(([n]) => n).sort()).toEqual(['prices/A', 'prices/B'])
    expect([...listener.active].sort()).toEqual(['prices/A', 'prices/B'])
  })

  it('a reconnecting listener loses its names on the drop and gets them back after reconnect', async () => {
    const { url, port } = await res.server(NO_GRACE)
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const feeder = await res.connected(proxy.url)
    const sub = await res.connected(url)
    const { seen, listener } = await listening(feeder, 'prices/*')
    await sub.subscribe('prices/A', () => {}).ready
    await told(seen, 1, 'active')
    const firstId = feeder.clientId
    // Down, not just cut: a long-polling client rides out a cut on the same session.
    proxy.down()
    await told(seen, 2, 'inactive on the drop')
    proxy.up()
    await waitFor(() => feeder.state === 'connected' && feeder.clientId !== firstId, 'the reconnect')
    await told(seen, 3, 'active again')
    expect(seen).toEqual([
      ['prices/A', true],
      ['prices/A', false],
      ['prices/A', true],
    ])
    expect(listener.listening).toBe(true)
  })

  it('server.listen: in-process listeners take part like clients, and stop', async () => {
    const { url, server } = await res.server(NO_GRACE)
    const seen: Seen = []
    const inProcess = server.listen('prices/*', (name, { active }) => seen.push([name, active]))
    await inProcess.ready
    const sub = await res.connected(url)
    const s = sub.subscribe('prices/A', () => {})
    await s.ready
    await told(seen, 1, 'active')
    const feeder = await res.connected(url)
    const client = await listening(feeder, 'prices/*')
    await inProcess.stop()
    await told(client.seen, 1, 'the client takes over')
    s.unsubscribe()
    await told(client.seen, 2, 'inactive')
    expect(seen).toEqual([['prices/A', true]])
    expect(client.seen).toEqual([
      ['prices/A', true],
      ['prices/A', false],
    ])
    await expect(server.listen('bad//pattern', () => {}).ready).rejects.toMatchObject({ code: 'INVALID_NAME' })
  })

  it('refuses a second listener of the same pattern and kind on one client, and bad patterns', async () => {
    const { url } = await res.server(NO_GRACE)
    const sb = await res.connected(url)
    await sb.listen('prices/*', () => {}).ready
    await sb.listen('prices/*', () => {}, { kind: 'record' }).ready
    await expect(sb.listen('prices/*', () => {}).ready).rejects.toMatchObject({ code: 'ALREADY_LISTENING' })
    await expect(sb.listen('a//b', () => {}).ready).rejects.toMatchObject({ code: 'INVALID_NAME' })
  })

  it('a name that goes empty and busy again within hooks.graceMs stays active; after the grace it is let go', async () => {
    const clock = new ManualClock()
    const { url } = await res.server({ hooks: { graceMs: 1000 } }, { clock })
    const feeder = await res.connected(url)
    const sub = await res.connected(url)
    const { seen } = await listening(feeder, 'prices/*')
    let s = sub.subscribe('prices/A', () => {})
    await s.ready
    await told(seen, 1, 'active')
    s.unsubscribe()
    await waitFor(() => clock.pending > 0, 'the grace timer')
    clock.advance(999)
    s = sub.subscribe('prices/A', () => {})
    await s.ready
    clock.advance(10_000) // the grace timer was cancelled by the new subscriber
    s.unsubscribe()
    await waitFor(() => clock.pending > 0, 'a new grace timer')
    await sub.subscribe('prices/marker', () => {}).ready
    await told(seen, 2, 'the marker')
    expect(seen).toEqual([
      ['prices/A', true],
      ['prices/marker', true],
    ])
    clock.advance(1000)
    await told(seen, 3, 'inactive after the grace')
    expect(seen[2]).toEqual(['prices/A', false])
  })
})

describe('listening under permission rules', () => {
  const RULES = `
channels:
  'prices/*':      { subscribe: 'true', publish: '"feeder" in user.roles', listen: '"feeder" in user.roles' }
  'prices/secret': { subscribe: 'true', listen: 'false' }
records:
  'todos/*':       { read: 'true', listen: 'user != null && "feeder" in user.roles' }
`
  const config = (): SwitchboardConfigInput => {
    const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`)
    writeFileSync(file, RULES)
    return { auth: { jwt: { secret: SECRET } }, permissions: file, hooks: { graceMs: 0 } }
  }

  it('without the listen rule a listener is refused; with it, names the rule denies are never given', async () => {
    const { url } = await res.server(config())
    const plain = await res.connected(url, { token: await hsToken('p', { roles: [] }) })
    const feeder = await res.connected(url, { token: await hsToken('f', { roles: ['feeder'] }) })
    const sub = await res.connected(url)
    await expect(plain.listen('prices/*', () => {}).ready).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(feeder.listen('news/*', () => {}).ready).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(plain.listen('todos/*', () => {}, { kind: 'record' }).ready).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    })
    const { seen } = await listening(feeder, 'prices/*')
    await sub.subscribe('prices/secret', () => {}).ready
    await sub.subscribe('prices/A', () => {}).ready
    await told(seen, 1, 'prices/A')
    expect(seen).toEqual([['prices/A', true]])
  })
  it('a token refresh that drops the role ends the listener (lend); its names go to another listener', async () => {
    const { url } = await res.server(config())
    const raw = res.add(await RawClient.open(url, { token: await hsToken('f1', { roles: ['feeder'] }) }), (c) =>
      c.close(),
    )
    raw.send({ t: 'lsn', id: 1, k: 'channel', p: 'prices/*' })
    await raw.waitFor((m) => m.t === 'ok' && m.id === 1)
    const sub = await res.connected(url)
    await sub.subscribe('prices/A', () => {}).ready
    expect(await raw.waitFor((m) => m.t === 'lact')).toEqual({
      t: 'lact',
      k: 'channel',
      p: 'prices/*',
      n: 'prices/A',
      a: true,
    })
    const other = await res.connected(url, { token: await hsToken('f2', { roles: ['feeder'] }) })
    const { seen } = await listening(other, 'prices/*')
    raw.send({ t: 'refresh', id: 2, token: await hsToken('f1', { roles: [] }) })
    await raw.waitFor((m) => m.t === 'ok' && m.id === 2)
    expect(raw.messages.find((m) => m.t === 'lend')).toMatchObject({
      k: 'channel',
      p: 'prices/*',
      code: 'PERMISSION_DENIED',
    })
    await told(seen, 1, 'the takeover')
    expect(seen).toEqual([['prices/A', true]])
  })

  it('malformed listen messages are refused with INVALID_MESSAGE', async () => {
    const { url } = await res.server(config())
    const raw = res.add(await RawClient.open(url, { token: await hsToken('f', { roles: ['feeder'] }) }), (c) =>
      c.close(),
    )
    raw.send({ t: 'lsn', id: 1, k: 'queue', p: 'prices/*' })
    raw.send({ t: 'lsn', id: 2, k: 'channel', p: 'prices/*', extra: 1 })
    raw.send({ t: 'lsn', id: 3, k: 'channel' })
    for (const id of [1, 2, 3]) {
      expect(await raw.waitFor((m) => m.id === id)).toMatchObject({ t: 'err', code: 'INVALID_MESSAGE' })
    }
  })
})

describe('listening across nodes (MemoryHub: the engine seam a cluster engine implements)', () => {
  it('a listener on one node hears subscribers on another; takeover crosses nodes too', async () => {
    const hub = new MemoryHub()
    const one = await res.server(NO_GRACE, { engine: hub.engine() })
    const two = await res.server(NO_GRACE, { engine: hub.engine() })
    const feederOne = await res.connected(one.url)
    const feederTwo = await res.connected(two.url)
    const first = await listening(feederOne, 'prices/*')
    const sub = await res.connected(two.url)
    const other = await res.connected(one.url)
    const s = sub.subscribe('prices/A', () => {})
    await s.ready
    await told(first.seen, 1, 'active on the other node')
    await other.subscribe('prices/A', () => {}).ready // held on both nodes now
    const second = await listening(feederTwo, 'prices/*')
    await feederOne.close()
    await told(second.seen, 1, 'takeover on the other node')
    s.unsubscribe()
    await sub.subscribe('prices/marker', () => {}).ready
    await told(second.seen, 2, 'the marker')
    expect(second.seen).toEqual([
      ['prices/A', true],
      ['prices/marker', true],
    ])
    await other.close()
    await told(second.seen, 3, 'vacated when the last node lets go')
    expect(second.seen[2]).toEqual(['prices/A', false])
  })
})
