import { afterEach, describe, expect, it } from 'vitest'
import { MemoryHub, verifyHookSignature, type HookEvent, type SwitchboardConfigInput } from '@switchboard/server'
import { HookReceiver, type Responder } from '../support/hook-receiver.js'
import { ManualClock } from '@switchboard/server/contract'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const HOOK_SECRET = 'hook-secret-for-tests-0123456789'
const BATCH_MS = 50
/** Heartbeats that never fire within a test's clock time. */
const QUIET = { intervalMs: 3_600_000, timeoutMs: 7_200_000 }

async function receiver(respond?: Responder): Promise<HookReceiver> {
  return res.add(await new HookReceiver(HOOK_SECRET, respond).start(), (r) => r.close())
}

function hooksConfig(url: string, extra: NonNullable<SwitchboardConfigInput['hooks']> = {}): SwitchboardConfigInput {
  return { hooks: { url, secret: HOOK_SECRET, graceMs: 0, batchMs: BATCH_MS, ...extra } }
}

/** Advances the clock through batch windows until the receiver has `count` events. */
async function pump(clock: ManualClock, hooks: HookReceiver, count: number): Promise<void> {
  for (;;) {
    await waitFor(() => hooks.events.length >= count || clock.hasTimer(BATCH_MS), `${count} hook events`)
    if (hooks.events.length >= count) return
    clock.advance(BATCH_MS)
  }
}

/** One sample of the server's /metrics, e.g. `switchboard_hook_retries_total`. */
async function metric(url: string, sample: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  if (!line) throw new Error(`no ${sample} in /metrics`)
  return Number(line.slice(sample.length + 1))
}

describe('hooks: events POSTed to hooks.url', () => {
  it('delivers connect, occupied, vacated and disconnect in order, signed, in one batch', async () => {
    const hooks = await receiver()
    const clock = new ManualClock()
    const { url, server } = await res.server(hooksConfig(hooks.url), { clock })
    const disconnected: HookEvent[] = []
    server.on('disconnect', (e) => disconnected.push(e))
    const sb = await res.connected(url)
    const clientId = sb.clientId
    const sub = sb.subscribe('rooms/1', () => {})
    await sub.ready
    sub.unsubscribe()
    await sb.close()
    await waitFor(() => disconnected.length === 1, 'the disconnect')
    clock.advance(BATCH_MS)
    await waitFor(() => hooks.requests.length === 1, 'one request')
    const [request] = hooks.requests
    expect(request?.signedCorrectly).toBe(true)
    expect(Number(request?.timestamp)).toBe(clock.now()) // signed when sent, by the injected clock
    expect(request?.events.map((e) => e.type)).toEqual(['connect', 'occupied', 'vacated', 'disconnect'])
    expect(request?.events[0]).toMatchObject({ type: 'connect', client: clientId, user: null, node: server.nodeId })
    expect(request?.events[1]).toMatchObject({ type: 'occupied', kind: 'channel', name: 'rooms/1' })
    expect(request?.events[3]).toMatchObject({ type: 'disconnect', client: clientId, code: 1000 })
    // The exported helper agrees with the receiver's own check, and refuses a tampered body.
    const verify = (body: string) =>
      verifyHookSignature({
        secret: HOOK_SECRET,
        body,
        timestamp: request?.timestamp,
        signature: request?.signature,
        now: clock.now(),
      })
    expect(verify(request?.body ?? '')).toBe(true)
    expect(verify((request?.body ?? '').replace('rooms/1', 'rooms/2'))).toBe(false)
  })

  it('retries after a 500 with backoff on the injected clock; the retry carries the same events, signed anew', async () => {
    const hooks = await receiver((i) => (i === 0 ? 500 : 200))
    const clock = new ManualClock()
    // The clock also drives the session sweep (every second at most): heartbeats far away keep
    // the minute of clock time below from timing the client out, and the backoff (50–100 s
    // for a retryDelayMs of 100 s) is told apart from every other timer by its length.
    const config = { ...hooksConfig(hooks.url, { retryDelayMs: 100_000 }), server: { heartbeat: QUIET } }
    const { url } = await res.server(config, { clock })
    await res.connected(url)
    await pump(clock, hooks, 1)
    await waitFor(async () => (await metric(url, 'switchboard_hook_retries_total')) === 1, 'the 500 to be handled')
    // The request's timeout (5 s) is cleared, and no batch timer runs while a batch waits for its retry.
    expect(clock.hasTimer(5000)).toBe(false)
    expect(clock.hasTimer(BATCH_MS)).toBe(false)
    const backoffs = clock.delays().filter((ms) => ms >= 10_000)
    expect(backoffs).toHaveLength(1)
    const delay = backoffs[0] as number
    expect(delay).toBeGreaterThanOrEqual(50_000)
    expect(delay).toBeLessThanOrEqual(100_000)
    clock.advance(delay - 1)
    expect(hooks.requests).toHaveLength(1)
    clock.advance(1)
    await waitFor(() => hooks.requests.length === 2, 'the retry')
    const [first, retry] = hooks.requests
    expect(retry?.events).toEqual(first?.events)
    expect(retry?.signedCorrectly).toBe(true)
    expect(retry?.timestamp).not.toBe(first?.timestamp)
    await waitFor(
      async () => (await metric(url, 'switchboard_hook_events_total{outcome="delivered"}')) === 1,
      'delivered',
    )
    expect(await metric(url, 'switchboard_hook_retries_total')).toBe(1)
  })

  it('a receiver that refuses (4xx) is not retried; the events count as failed', async () => {
    const hooks = await receiver(() => 400)
    const clock = new ManualClock()
    const { url } = await res.server(hooksConfig(hooks.url), { clock })
    await res.connected(url)
    await pump(clock, hooks, 1)
    await waitFor(async () => (await metric(url, 'switchboard_hook_events_total{outcome="failed"}')) === 1, 'failed')
    // No retry waits (and no request timeout, no batch): only the session sweep may be scheduled.
    expect(clock.delays().every((ms) => ms <= 1000 && ms !== BATCH_MS)).toBe(true)
    expect(await metric(url, 'switchboard_hook_retries_total')).toBe(0)
    expect(hooks.requests).toHaveLength(1)
  })

  it('batches a burst: 1,000 subscribes in a burst reach the backend in ceil(events / maxBatch) requests', async () => {
    const hooks = await receiver()
    const clock = new ManualClock()
    const { url, server } = await res.server(hooksConfig(hooks.url, { maxBatch: 500 }), { clock })
    let occupied = 0
    server.on('occupied', () => occupied++)
    const sb = await res.connected(url)
    await Promise.all(Array.from({ length: 1000 }, (_, i) => sb.subscribe(`burst/${i}`, () => {}).ready))
    await waitFor(() => occupied === 1000, 'every occupied event')
    await pump(clock, hooks, 1001)
    expect(hooks.requests.map((r) => r.events.length)).toEqual([500, 500, 1])
    expect(hooks.requests.every((r) => r.signedCorrectly)).toBe(true)
    const names = new Set(hooks.events.filter((e) => e.type === 'occupied').map((e) => e.name))
    expect(names.size).toBe(1000)
  })

  it('a receiver that never answers does not slow publications; the overflow is dropped and counted', async () => {
    const hooks = await receiver(() => 'hang')
    const clock = new ManualClock()
    const { url } = await res.server(hooksConfig(hooks.url, { maxQueue: 5, timeoutMs: 300 }), { clock })
    const publisher = await res.connected(url)
    await pump(clock, hooks, 1) // the connect event's request is now in flight, unanswered
    const subscriber = await res.connected(url)
    let received = 0
    await subscriber.subscribe('feed/x', () => received++).ready
    for (let i = 0; i < 20; i++) await subscriber.subscribe(`busy/${i}`, () => {}).ready
    const acks = await Promise.all(Array.from({ length: 1000 }, (_, i) => publisher.publish('feed/x', i)))
    expect(acks).toHaveLength(1000)
    await waitFor(() => received === 1000, 'every publication delivered')
    expect(hooks.requests).toHaveLength(1) // still the one, still unanswered
    // 1 connect + 21 occupied queued behind it, 5 kept: 17 dropped.
    expect(await metric(url, 'switchboard_hook_events_total{outcome="dropped"}')).toBe(17)
  })

  it('hooks.events filters what is POSTed; server.on still hears everything', async () => {
    const hooks = await receiver()
    const clock = new ManualClock()
    const { url, server } = await res.server(hooksConfig(hooks.url, { events: ['occupied'] }), { clock })
    const connects: HookEvent[] = []
    server.on('connect', (e) => connects.push(e))
    const sb = await res.connected(url)
    await sb.subscribe('only/this', () => {}).ready
    await pump(clock, hooks, 1)
    expect(hooks.events.map((e) => [e.type, e.name])).toEqual([['occupied', 'only/this']])
    expect(connects).toHaveLength(1)
  })
})

describe('occupancy events (server.on) and the grace period', () => {
  it('a channel that goes empty and busy again within hooks.graceMs produces no vacated/occupied pair', async () => {
    const clock = new ManualClock()
    const { url, server } = await res.server({ hooks: { graceMs: 2000 } }, { clock })
    const events: string[] = []
    server.on('occupied', (e) => events.push(`+${e.name}`))
    server.on('vacated', (e) => events.push(`-${e.name}`))
    const sb = await res.connected(url)
    for (let i = 0; i < 3; i++) {
      const s = sb.subscribe('flappy/1', () => {})
      await s.ready
      s.unsubscribe()
      await waitFor(() => clock.hasTimer(2000), 'the grace timer')
      clock.advance(1999)
    }
    await sb.subscribe('marker/1', () => {}).ready
    await waitFor(() => events.length === 2, 'the marker')
    expect(events).toEqual(['+flappy/1', '+marker/1'])
    clock.advance(1)
    await waitFor(() => events.length === 3, 'vacated after the grace')
    expect(events[2]).toBe('-flappy/1')
  })

  it('records occupy too; and a server closing lets names in their grace period go (vacated is reported)', async () => {
    const clock = new ManualClock()
    const { url, server } = await res.server({ hooks: { graceMs: 5000 } }, { clock })
    const events: string[] = []
    server.on('occupied', (e) => events.push(`+${e.kind}:${e.name}`))
    server.on('vacated', (e) => events.push(`-${e.kind}:${e.name}`))
    const sb = await res.connected(url)
    const rec = sb.record('docs/1')
    await rec.ready
    await waitFor(() => events.length === 1, 'occupied')
    rec.discard()
    await waitFor(() => clock.hasTimer(5000), 'the grace timer')
    await server.close()
    expect(events).toEqual(['+record:docs/1', '-record:docs/1'])
  })

  it('across nodes each change is reported once, by the node that caused it', async () => {
    const hub = new MemoryHub()
    const one = await res.server({ hooks: { graceMs: 0 } }, { engine: hub.engine() })
    const two = await res.server({ hooks: { graceMs: 0 } }, { engine: hub.engine() })
    const events: string[] = []
    for (const { server } of [one, two]) {
      server.on('occupied', (e) => events.push(`+${e.node}`))
      server.on('vacated', (e) => events.push(`-${e.node}`))
    }
    const a = await res.connected(one.url)
    const b = await res.connected(two.url)
    const sa = a.subscribe('shared/1', () => {})
    await sa.ready
    await b.subscribe('shared/1', () => {}).ready
    await waitFor(() => events.length === 1, 'occupied')
    sa.unsubscribe()
    await b.close()
    await waitFor(() => events.length === 2, 'vacated')
    expect(events).toEqual([`+${one.server.nodeId}`, `-${two.server.nodeId}`])
  })
})
