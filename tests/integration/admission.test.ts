import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { CloseCode } from '@switchboard/protocol'
import { ManualClock } from '@switchboard/server/contract'
import type { SwitchboardError } from '@switchboard/client'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { nextEvent } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

/** One WebSocket opened and left to the server: what it says before it closes, and the close. */
async function attempt(url: string): Promise<{ first: Record<string, unknown> | undefined; code: number }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws')
  ws.on('error', () => {})
  let first: Record<string, unknown> | undefined
  ws.on('message', (d) => {
    first ??= JSON.parse(d.toString()) as Record<string, unknown>
    if (first.t === 'welcome') ws.terminate() // admitted: nothing more to see
  })
  ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', id: 0, v: 1 })))
  const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)))
  return { first, code }
}

describe('admission control (limits.connectsPerSecond)', () => {
  it('a burst beyond the rate: the first ones in, the rest refused with RATE_LIMITED and staggered retryAfterMs', async () => {
    const clock = new ManualClock() // frozen: no token comes back during the burst
    const { url } = await res.server({ limits: { connectsPerSecond: 5 } }, { clock })
    const outcomes = await Promise.all(
      Array.from({ length: 15 }, async () => {
        const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws')
        ws.on('error', () => {})
        const first = await new Promise<Record<string, unknown>>((resolve) => {
          ws.on('message', (d) => resolve(JSON.parse(d.toString()) as Record<string, unknown>))
          ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', id: 0, v: 1 })))
        })
        res.add(ws, (w) => w.terminate())
        return first
      }),
    )
    const welcomed = outcomes.filter((m) => m.t === 'welcome')
    const refused = outcomes.filter((m) => m.t === 'err')
    expect(welcomed).toHaveLength(5)
    expect(refused).toHaveLength(10)
    for (const m of refused)
      expect(m).toMatchObject({ code: 'RATE_LIMITED', data: { retryAfterMs: expect.any(Number) } })
    // Each refused connection is given its own time to come back, a fifth of a second apart.
    const waits = refused.map((m) => (m.data as { retryAfterMs: number }).retryAfterMs).sort((a, b) => a - b)
    expect(waits).toEqual([200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000])
  })

  it('a refused WebSocket is closed with 4006 after the err; a second later the node admits again', async () => {
    const clock = new ManualClock()
    const { url } = await res.server({ limits: { connectsPerSecond: 1 } }, { clock })
    res.add(await RawClient.open(url), (c) => c.close())
    const refused = await attempt(url)
    expect(refused.first).toMatchObject({ t: 'err', code: 'RATE_LIMITED' })
    expect(refused.code).toBe(CloseCode.CONNECTION_LIMIT)
    clock.advance(1000)
    res.add(await RawClient.open(url), (c) => c.close())
  })

  it('holds for WebSockets with no per-address limit too (limits.maxConnectionsPerIp: 0)', async () => {
    const clock = new ManualClock()
    const { url } = await res.server({ limits: { connectsPerSecond: 1, maxConnectionsPerIp: 0 } }, { clock })
    res.add(await RawClient.open(url), (c) => c.close())
    const refused = await attempt(url)
    expect(refused.first).toMatchObject({ t: 'err', code: 'RATE_LIMITED' })
    expect(refused.code).toBe(CloseCode.CONNECTION_LIMIT)
  })

  it("the client reports RATE_LIMITED, waits for the server's hint and gets in once the node admits again", async () => {
    const clock = new ManualClock()
    const { url } = await res.server({ limits: { connectsPerSecond: 1 } }, { clock })
    await res.connected(url)
    const sb = res.client(url)
    const errors: SwitchboardError[] = []
    sb.on('error', (e) => errors.push(e))
    await expect(sb.connect()).rejects.toMatchObject({ code: 'RATE_LIMITED', data: { retryAfterMs: 1000 } })
    expect(sb.state).toBe('reconnecting')
    clock.advance(1000) // the server's second passes; the client comes back after its hint (real time)
    await nextEvent<void>((l) => sb.on('state', (s) => s === 'connected' && l()), 'the client to get in')
    expect(errors.map((e) => e.code)).toEqual(['RATE_LIMITED'])
  })

  it('an SSE stream over the rate gets 503 with Retry-After', async () => {
    const clock = new ManualClock()
    const { url } = await res.server({ limits: { connectsPerSecond: 1 } }, { clock })
    res.add(await RawClient.open(url), (c) => c.close())
    const r = await fetch(`${url}/sse?channel=a`)
    expect(r.status).toBe(503)
    expect(r.headers.get('retry-after')).toBe('1')
    expect(await r.json()).toMatchObject({ error: { code: 'RATE_LIMITED', data: { retryAfterMs: 1000 } } })
  })

  it('0 admits without limit', async () => {
    const clock = new ManualClock()
    const { url } = await res.server({ limits: { connectsPerSecond: 0 } }, { clock })
    for (let i = 0; i < 20; i++) res.add(await RawClient.open(url), (c) => c.close())
  })
})
