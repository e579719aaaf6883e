import { CloseCode } from '@switchboard/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Switchboard } from '../switchboard.js'
import type { SwitchboardError } from '../errors.js'
import type { ClientTransportEvents, TransportFactory, UpgradeRefusal } from '../transport/transport.js'

/**
 * A scripted server behind the public `transport` option: the first `refusals` attempts are
 * refused at the upgrade with `refusal`, later ones are welcomed. Everything happens a
 * microtask later, as a real transport would. `urls`: the URL of every attempt, in order.
 */
function refusingThenWelcoming(refusals = 0, refusal?: UpgradeRefusal) {
  const opened: ClientTransportEvents[] = []
  const urls: string[] = []
  const later = (f: () => void) => void Promise.resolve().then(f)
  const factory: TransportFactory = (url, events) => {
    urls.push(url)
    opened.push(events)
    if (opened.length <= refusals) later(() => events.onClose(CloseCode.ABNORMAL, '', refusal))
    else later(() => events.onOpen())
    return {
      send(frame) {
        const m = JSON.parse(frame) as { t: string; id: number }
        const hb = { interval: 10_000, timeout: 30_000 }
        if (m.t === 'hello')
          later(() => events.onFrame(JSON.stringify({ t: 'welcome', id: m.id, v: 1, client: 'c', user: null, hb })))
      },
      close: (code = CloseCode.NORMAL, reason = '') => later(() => events.onClose(code, reason)),
    }
  }
  return { factory, opened, urls }
}

const client = (factory: TransportFactory) =>
  new Switchboard('http://x.invalid', { transport: factory, reconnect: { minDelayMs: 10, maxDelayMs: 10 } })

afterEach(() => void vi.useRealTimers())

describe('a refused connection', () => {
  it("waits at least the server's Retry-After before the next attempt", async () => {
    vi.useFakeTimers()
    const server = refusingThenWelcoming(1, { status: 503, retryAfterMs: 5000 })
    const sb = client(server.factory)
    const errors: SwitchboardError[] = []
    sb.on('error', (e) => errors.push(e))
    await expect(sb.connect()).rejects.toMatchObject({ code: 'UNAVAILABLE', data: { status: 503, retryAfterMs: 5000 } })
    expect(errors.map((e) => e.code)).toEqual(['UNAVAILABLE'])
    expect(sb.state).toBe('reconnecting')

    await vi.advanceTimersByTimeAsync(4999)
    expect(server.opened).toHaveLength(1) // the backoff alone (under 10 ms) would have retried long ago
    await vi.advanceTimersByTimeAsync(10) // Retry-After, plus the jitter of one backoff step
    expect(server.opened).toHaveLength(2)
    expect(sb.state).toBe('connected')
    await sb.close()
  })

  it("a connect() called from an 'error' listener waits for the next attempt instead of failing with this one", async () => {
    const server = refusingThenWelcoming(1, { status: 429 })
    const sb = client(server.factory)
    let retried: Promise<void> | undefined
    sb.on('error', () => (retried ??= sb.connect()))
    await expect(sb.connect()).rejects.toMatchObject({ code: 'RATE_LIMITED' })
    await expect(retried).resolves.toBeUndefined()
    expect(sb.state).toBe('connected')
    await sb.close()
  })

  it('HTTP 401 on the upgrade (a proxy refusing the credentials) stops the client', async () => {
    const server = refusingThenWelcoming(1, { status: 401 })
    const sb = client(server.factory)
    sb.on('error', () => {})
    await expect(sb.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED', data: { status: 401 } })
    expect(sb.state).toBe('closed')
    expect(server.opened).toHaveLength(1)
  })
})

describe('a draining node', () => {
  it("reconnects to the next URL after the drain message's hint, not at once and not after the backoff", async () => {
    vi.useFakeTimers()
    const { factory, opened, urls } = refusingThenWelcoming()
    // A backoff of a minute: only the hint can bring the client back within seconds.
    const sb = new Switchboard(['http://a.invalid', 'http://b.invalid'], {
      transport: factory,
      reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 },
    })
    const errors: SwitchboardError[] = []
    sb.on('error', (e) => errors.push(e))
    await sb.connect()

    opened[0]!.onFrame(JSON.stringify({ t: 'drain', after: 3000 }))
    opened[0]!.onClose(CloseCode.DRAINING, 'draining')
    await vi.advanceTimersByTimeAsync(2999)
    expect(urls).toHaveLength(1)
    expect(sb.state).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(1)
    expect(urls[1]).toContain('b.invalid')
    expect(sb.state).toBe('connected')
    expect(errors).toEqual([]) // a drain is routine: nothing reported
    await sb.close()
  })

  it('with more than two URLs, moves to any other one at random (the drained node’s clients spread)', async () => {
    const firstMoves = new Map<string, number>()
    for (let k = 0; k < 40; k++) {
      const { factory, opened, urls } = refusingThenWelcoming()
      const sb = new Switchboard(['http://a.invalid', 'http://b.invalid', 'http://c.invalid'], { transport: factory })
      await sb.connect()
      const moved = new Promise<void>((resolve) => sb.on('state', (s) => s === 'connected' && resolve()))
      opened[0]!.onFrame(JSON.stringify({ t: 'drain', after: 0 }))
      opened[0]!.onClose(CloseCode.DRAINING, 'draining')
      await moved
      const host = new URL(urls[1]!).host
      firstMoves.set(host, (firstMoves.get(host) ?? 0) + 1)
      await sb.close()
    }
    expect(firstMoves.has('a.invalid')).toBe(false) // never back to the draining node
    expect(firstMoves.get('b.invalid')).toBeGreaterThan(0)
    expect(firstMoves.get('c.invalid')).toBeGreaterThan(0)
  })
})
