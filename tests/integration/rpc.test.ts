import { afterEach, describe, expect, it } from 'vitest'
import { SwitchboardError, type Switchboard } from '@switchboard/client'
import { signDevelopmentToken, type AccessRequest } from '@switchboard/server'
import { ManualClock } from '@switchboard/server/contract'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

/** Resolves with the error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<SwitchboardError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError)
    return err as SwitchboardError
  }
  throw new Error('expected a rejection')
}

/** A provider that records which worker answered each call. */
function worker(sb: Switchboard, name: string, label: string, log: string[]) {
  return sb.rpc.provide(name, (args) => {
    log.push(label)
    return { by: label, args }
  })
}

describe('rpc: calls and results', () => {
  it('routes a call to a provider on another client and returns its result', async () => {
    const { url } = await res.server()
    const [caller, provider] = [await res.connected(url), await res.connected(url)]
    const p = provider.rpc.provide('math/add', async (args: { a: number; b: number }) => args.a + args.b)
    await p.ready
    expect(await caller.rpc.call('math/add', { a: 1, b: 2 }, { timeoutMs: 5000 })).toBe(3)
  })

  it('passes ctx.user (null when anonymous) and ctx.name; undefined results and args arrive as undefined', async () => {
    const { url } = await res.server()
    const [caller, provider] = [await res.connected(url), await res.connected(url)]
    const seen: unknown[] = []
    await provider.rpc.provide('echo/ctx', (args, ctx) => {
      seen.push({ args, user: ctx.user, name: ctx.name, clientId: ctx.clientId })
      return undefined
    }).ready
    expect(await caller.rpc.call('echo/ctx')).toBeUndefined()
    expect(seen).toEqual([{ args: undefined, user: null, name: 'echo/ctx', clientId: caller.clientId }])
  })

  it('ctx.user is the authenticated caller (id and claims), in client providers and server handlers', async () => {
    const { url, server } = await res.server({ auth: { jwt: { secret: 'rpc-test-secret-with-at-least-32-bytes!' } } })
    const token = await signDevelopmentToken(server.config, { user: 'alice', claims: { roles: ['voter'] } })
    const [caller, provider] = [await res.connected(url, { token }), await res.connected(url)]
    await provider.rpc.provide('who/client', (_a, ctx) => ctx.user).ready
    await server.rpc.handle('who/server', (_a, ctx) => ctx.user).ready
    await server.rpc.handle('who/client-id', (_a, ctx) => ctx.clientId).ready
    expect(await caller.rpc.call('who/client-id')).toBe(caller.clientId)
    expect(await server.rpc.call('who/client-id')).toBeNull()
    expect(await caller.rpc.call('who/client')).toMatchObject({ id: 'alice', roles: ['voter'] })
    expect(await caller.rpc.call('who/server')).toMatchObject({ id: 'alice', roles: ['voter'] })
    expect(await server.rpc.call('who/server', null, { user: { id: 'bob' } })).toEqual({ id: 'bob' })
  })

  it('server.rpc.handle: in-process handlers answer client calls; server.rpc.call reaches client providers', async () => {
    const { url, server } = await res.server()
    const handle = server.rpc.handle('srv/double', (args) => (args as number) * 2)
    await handle.ready
    const [caller, provider] = [await res.connected(url), await res.connected(url)]
    expect(await caller.rpc.call('srv/double', 21)).toBe(42)
    await provider.rpc.provide('client/upper', (s) => String(s).toUpperCase()).ready
    expect(await server.rpc.call('client/upper', 'abc')).toBe('ABC')
    await handle.stop()
    expect((await failure(caller.rpc.call('srv/double', 1))).code).toBe('NO_PROVIDER')
  })

  it('refuses invalid names and a second provide of the same name on one connection', async () => {
    const { url } = await res.server()
    const sb = await res.connected(url)
    expect((await failure(sb.rpc.call('bad name'))).code).toBe('INVALID_NAME')
    expect((await failure(sb.rpc.provide('bad name', () => 1).ready)).code).toBe('INVALID_NAME')
    await sb.rpc.provide('dup/x', () => 1).ready
    expect((await failure(sb.rpc.provide('dup/x', () => 2).ready)).code).toBe('ALREADY_PROVIDED')
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    raw.send({ t: 'prov', id: 1, n: 'dup/y' })
    raw.send({ t: 'prov', id: 2, n: 'dup/y' })
    expect((await raw.waitFor((m) => m.id === 2)).code).toBe('ALREADY_PROVIDED')
  })
})

describe('rpc: routing', () => {
  it('spreads calls round-robin over every provider, in-process handlers included', async () => {
    const { url, server } = await res.server()
    const log: string[] = []
    const [a, b, caller] = [await res.connected(url), await res.connected(url), await res.connected(url)]
    await worker(a, 'work/job', 'a', log).ready
    await worker(b, 'work/job', 'b', log).ready
    await server.rpc.handle('work/job', () => void log.push('server')).ready
    for (let i = 0; i < 30; i++) await caller.rpc.call('work/job', i)
    expect(log.filter((l) => l === 'a')).toHaveLength(10)
    expect(log.filter((l) => l === 'b')).toHaveLength(10)
    expect(log.filter((l) => l === 'server')).toHaveLength(10)
    // Concurrent calls spread too.
    log.length = 0
    await Promise.all(Array.from({ length: 30 }, (_, i) => caller.rpc.call('work/job', i)))
    expect(new Set(log)).toEqual(new Set(['a', 'b', 'server']))
  })

  it('ctx.reject() hands the call to another provider', async () => {
    const { url } = await res.server()
    const [picky, willing, caller] = [await res.connected(url), await res.connected(url), await res.connected(url)]
    let rejected = 0
    await picky.rpc.provide('jobs/run', (_args, ctx) => {
      rejected++
      ctx.reject()
      return 'ignored'
    }).ready
    await willing.rpc.provide('jobs/run', () => 'done by willing').ready
    for (let i = 0; i < 6; i++) expect(await caller.rpc.call('jobs/run', i)).toBe('done by willing')
    expect(rejected).toBeGreaterThan(0) // round-robin sent some to the picky one first
  })

  it('NO_PROVIDER when nobody provides the name, and when every provider rejected the call', async () => {
    const { url, server } = await res.server()
    const [p1, caller] = [await res.connected(url), await res.connected(url)]
    const none = await failure(caller.rpc.call('nobody/home'))
    expect(none.code).toBe('NO_PROVIDER')
    expect(none.retryable).toBe(true)
    await p1.rpc.provide('all/reject', (_a, ctx) => ctx.reject()).ready
    await server.rpc.handle('all/reject', (_a, ctx) => ctx.reject()).ready
    const all = await failure(caller.rpc.call('all/reject'))
    expect(all.code).toBe('NO_PROVIDER')
    expect(all.message).toMatch(/rejected/)
  })

  it('a stopped provider gets no more calls', async () => {
    const { url } = await res.server()
    const [a, b, caller] = [await res.connected(url), await res.connected(url), await res.connected(url)]
    const log: string[] = []
    const pa = worker(a, 'stop/me', 'a', log)
    await pa.ready
    await worker(b, 'stop/me', 'b', log).ready
    await pa.stop()
    for (let i = 0; i < 4; i++) await caller.rpc.call('stop/me')
    expect(log).toEqual(['b', 'b', 'b', 'b'])
  })
})

describe('rpc: failures', () => {
  it('TIMEOUT when the provider does not answer in time; the late answer is dropped', async () => {
    const { url } = await res.server()
    const [slow, caller] = [await res.connected(url), await res.connected(url)]
    let release!: (v: string) => void
    await slow.rpc.provide('slow/op', () => new Promise<string>((r) => (release = r))).ready
    const err = await failure(caller.rpc.call('slow/op', null, { timeoutMs: 150 }))
    expect(err.code).toBe('TIMEOUT')
    expect(err.retryable).toBe(true)
    release('too late')
    // The connection is fine and the next call works.
    await waitFor(() => release !== undefined, 'handler')
    const errors: SwitchboardError[] = []
    caller.on('error', (e) => errors.push(e))
    const ok = slow.rpc.provide('fast/op', () => 'fast')
    await ok.ready
    expect(await caller.rpc.call('fast/op')).toBe('fast')
    expect(errors).toEqual([])
  })

  it('a call times out by the server clock: not a millisecond before its deadline, at it', async () => {
    const clock = new ManualClock(1_000_000)
    // Heartbeats far apart, so moving the clock a minute on leaves the connections alone.
    const heartbeat = { intervalMs: 3_600_000, timeoutMs: 7_200_000 }
    const { url } = await res.server({ server: { heartbeat } }, { clock })
    const [provider, caller] = [await res.connected(url), await res.connected(url)]
    let invoked!: () => void
    const reached = new Promise<void>((resolve) => (invoked = resolve))
    await provider.rpc.provide('never/answers', () => (invoked(), new Promise(() => {}))).ready
    await provider.rpc.provide('fast/op', () => 'fast').ready
    let outcome: SwitchboardError | undefined
    const timedOut = failure(caller.rpc.call('never/answers', null, { timeoutMs: 60_000 })).then((e) => (outcome = e))
    await reached // the server has the call: its deadline is a minute from now on the clock
    clock.advance(59_999)
    // A later call's answer comes after anything the server sent the caller before it.
    expect(await caller.rpc.call('fast/op')).toBe('fast')
    expect(outcome).toBeUndefined()
    clock.advance(1)
    expect((await timedOut).code).toBe('TIMEOUT')
  })

  it('the server applies its default timeout and caps what callers ask for', async () => {
    const { url } = await res.server({ rpc: { defaultTimeoutMs: 100, maxTimeoutMs: 200 } })
    const [slow, caller] = [await res.connected(url), await res.connected(url)]
    await slow.rpc.provide('never/answers', () => new Promise(() => {})).ready
    expect((await failure(caller.rpc.call('never/answers'))).message).toMatch(/100 ms/)
    expect((await failure(caller.rpc.call('never/answers', null, { timeoutMs: 60_000 }))).message).toMatch(/200 ms/)
  })

  it('an error thrown by a provider reaches the caller with its message and no stack trace', async () => {
    const { url, server } = await res.server()
    const provider = await res.connected(url)
    await provider.rpc.provide('fail/client', () => {
      throw new Error('boom from the provider')
    }).ready
    const caller = res.add(await RawClient.open(url), (c) => c.close())
    caller.send({ t: 'rpc', id: 1, n: 'fail/client', a: 1 })
    const frame = await caller.waitFor((m) => m.id === 1)
    expect(frame).toEqual({ t: 'err', id: 1, code: 'RPC_ERROR', msg: 'boom from the provider' })

    await server.rpc.handle('fail/server', async () => {
      throw new TypeError('bad input on the server')
    }).ready
    caller.send({ t: 'rpc', id: 2, n: 'fail/server' })
    expect(await caller.waitFor((m) => m.id === 2)).toEqual({
      t: 'err',
      id: 2,
      code: 'RPC_ERROR',
      msg: 'bad input on the server',
    })

    const sb = await res.connected(url)
    const err = await failure(sb.rpc.call('fail/client'))
    expect(err.code).toBe('RPC_ERROR')
    expect(err.retryable).toBe(false)
    expect(err.message).toBe('boom from the provider')
  })

  it('a provider may fail with a catalogue code (a SwitchboardError) that the caller receives', async () => {
    const { url, server } = await res.server()
    const [provider, caller] = [await res.connected(url), await res.connected(url)]
    await provider.rpc.provide('coded/client', () => {
      throw new SwitchboardError('NOT_FOUND', 'no such thing')
    }).ready
    const e1 = await failure(caller.rpc.call('coded/client'))
    expect([e1.code, e1.message]).toEqual(['NOT_FOUND', 'no such thing'])
    const { SwitchboardError: ServerError } = await import('@switchboard/server')
    await server.rpc.handle('coded/server', () => {
      throw new ServerError('PERMISSION_DENIED', 'already voted')
    }).ready
    const e2 = await failure(caller.rpc.call('coded/server'))
    expect([e2.code, e2.message]).toEqual(['PERMISSION_DENIED', 'already voted'])
  })

  it('a provider that disconnects mid-call fails that call with PROVIDER_LOST and leaves the pool', async () => {
    const { url } = await res.server()
    const [doomed, steady, caller] = [await res.connected(url), await res.connected(url), await res.connected(url)]
    let started = false
    await doomed.rpc.provide('risky/op', () => {
      started = true
      return new Promise(() => {})
    }).ready
    await steady.rpc.provide('risky/op', () => 'steady').ready
    // Round-robin: the first call goes to the first provider registered.
    const pending = caller.rpc.call('risky/op')
    await waitFor(() => started, 'the doomed provider to start')
    await doomed.close()
    const err = await failure(pending)
    expect(err.code).toBe('PROVIDER_LOST')
    expect(err.retryable).toBe(true)
    for (let i = 0; i < 4; i++) expect(await caller.rpc.call('risky/op')).toBe('steady')
  })

  it('permission rules decide who may provide and who may call', async () => {
    const policy = {
      allows: (r: AccessRequest) =>
        r.kind !== 'rpc' || (r.action === 'provide' ? r.name.startsWith('open/') : r.name !== 'open/secret'),
    }
    const { url } = await res.server({}, { policy })
    const [provider, caller] = [await res.connected(url), await res.connected(url)]
    expect((await failure(provider.rpc.provide('closed/x', () => 1).ready)).code).toBe('PERMISSION_DENIED')
    await provider.rpc.provide('open/secret', () => 's').ready
    await provider.rpc.provide('open/public', () => 'p').ready
    expect((await failure(caller.rpc.call('open/secret'))).code).toBe('PERMISSION_DENIED')
    expect(await caller.rpc.call('open/public')).toBe('p')
  })
})

describe('rpc: reconnects', () => {
  it('providers are registered again after a reconnect', async () => {
    const { url, port } = await res.server()
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const provider = await res.connected(proxy.url)
    const caller = await res.connected(url)
    const p = provider.rpc.provide('survive/op', (n) => (n as number) + 1)
    await p.ready
    expect(await caller.rpc.call('survive/op', 1)).toBe(2)
    const firstId = provider.clientId
    // Down, not just cut: a long-polling client rides out a cut on the same session.
    proxy.down()
    await waitFor(() => provider.state === 'reconnecting', 'the provider to notice')
    proxy.up()
    await waitFor(() => provider.state === 'connected' && provider.clientId !== firstId, 'the provider to reconnect')
    // Re-registration follows the reconnect; until it lands the caller may see NO_PROVIDER.
    const answer = await waitFor(
      async () => caller.rpc.call('survive/op', 9).catch(() => null),
      'the provider to be back',
    )
    expect(answer).toBe(10)
    expect(p.providing).toBe(true)
  })

  it('calls made while disconnected wait in the offline queue and go out after the reconnect', async () => {
    const { url, port } = await res.server()
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const provider = await res.connected(url)
    const caller = await res.connected(proxy.url)
    await provider.rpc.provide('queued/op', (n) => (n as number) * 2).ready
    const lost = nextEvent((l) => caller.on('state', l), 'caller disconnect')
    proxy.down()
    await lost
    const queued = [caller.rpc.call('queued/op', 1), caller.rpc.call('queued/op', 2)]
    proxy.up()
    expect(await Promise.all(queued)).toEqual([2, 4])
  })
})
