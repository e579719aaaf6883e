// Hostile and heavy input through the public surface (real server, real SDK): one request must
// not stall the server, every refusal settles the request it refuses, and every SDK failure is
// a SwitchboardError with a stable code.
import { afterEach, describe, expect, it } from 'vitest'
import { SwitchboardError, type Switchboard } from '@switchboard/client'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'

const res = new Resources()
afterEach(() => res.cleanup())

/** The rejection of `promise` (bounded: a promise that never settles fails the test). */
async function rejection(promise: Promise<unknown>, timeoutMs = 10_000): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([
      promise.then(
        () => new Error('expected a rejection'),
        (e: unknown) => e,
      ),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Connection-level `error` events of a client (there should be none for a refused request). */
function connectionErrors(sb: Switchboard): SwitchboardError[] {
  const errors: SwitchboardError[] = []
  sb.on('error', (e) => errors.push(e))
  return errors
}

const increments = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 1]))
const nested = (depth: number) => {
  let value: Record<string, unknown> = { leaf: true }
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

describe('record updates with many paths', () => {
  it('PATCH with 10,000 increment paths is refused at once (INVALID_DATA, limits.maxUpdateOps); /healthz answers meanwhile', async () => {
    const { url } = await res.server()
    const patch = fetch(`${url}/api/records/counters/1`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ increment: increments(10_000) }),
      signal: AbortSignal.timeout(10_000),
    })
    const health = fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) })
    const r = await patch
    expect(r.status).toBe(400)
    const body = (await r.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('INVALID_DATA')
    expect(body.error.message).toMatch(/10000 operations; at most 1000 \(limits\.maxUpdateOps\)/)
    expect((await health).status).toBe(200)
  })

  it('an update at the limit applies (HTTP and SDK); one past it is refused by the SDK before it changes anything', async () => {
    const { url } = await res.server()
    const r = await fetch(`${url}/api/records/counters/http`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ increment: increments(1000) }),
      signal: AbortSignal.timeout(10_000),
    })
    expect(r.status).toBe(200)

    const sb = await res.connected(url)
    const errors = connectionErrors(sb)
    const rec = sb.record('counters/sdk')
    await rec.ready
    expect(await rec.update({ increment: increments(1000) })).toEqual({ version: 1 })
    expect(Object.keys(rec.data ?? {})).toHaveLength(1000)
    const err = await rejection(rec.update({ increment: increments(1001) }))
    expect(err).toBeInstanceOf(SwitchboardError)
    expect(err).toMatchObject({ code: 'INVALID_DATA', message: expect.stringMatching(/limits\.maxUpdateOps/) })
    expect(rec.version).toBe(1)
    expect(rec.get('k0')).toBe(1)
    expect(errors).toEqual([])
  })

  it('the limit is configurable, announced to clients and enforced by the server for any client', async () => {
    const { url } = await res.server({ limits: { maxUpdateOps: 10 } })
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    const welcome = raw.messages.find((m) => m.t === 'welcome') as { limits?: Record<string, number> }
    expect(welcome.limits).toEqual({ maxMessageBytes: 1024 * 1024, maxJsonDepth: 32, maxUpdateOps: 10 })
    raw.send({
      t: 'rupd',
      id: 5,
      n: 'counters/raw',
      ops: { increment: increments(6), unset: ['a', 'b', 'c', 'd', 'e'] },
    })
    expect(await raw.waitFor((m) => m.id === 5)).toMatchObject({ t: 'err', code: 'INVALID_DATA' })
    raw.send({ t: 'rupd', id: 6, n: 'counters/raw', ops: { increment: increments(10) } })
    expect(await raw.waitFor((m) => m.id === 6)).toMatchObject({ t: 'ok', r: { v: 1 } })
  })
})

describe('writes over maxMessageBytes', () => {
  it.each([1.5, 3])(
    'rec.set() of a %s MiB document rejects with TOO_LARGE, rolls back, and the connection carries on',
    async (mib) => {
      const { url } = await res.server()
      const sb = await res.connected(url)
      const errors = connectionErrors(sb)
      const rec = sb.record('docs/big')
      await rec.ready
      await rec.set({ small: true })
      const err = await rejection(rec.set({ blob: 'x'.repeat(mib * 1024 * 1024) }))
      expect(err).toBeInstanceOf(SwitchboardError)
      expect(err).toMatchObject({ code: 'TOO_LARGE' })
      expect(rec.data).toEqual({ small: true })
      expect(await rec.set({ small: false })).toEqual({ version: 2 })
      expect(sb.state).toBe('connected')
      expect(errors).toEqual([])
    },
  )

  it('the server answers a frame over the limit with TOO_LARGE and the request id', async () => {
    const { url } = await res.server({ limits: { maxMessageBytes: '64KiB' } })
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    raw.send({ t: 'rset', id: 41, n: 'docs/big', d: { blob: 'x'.repeat(100_000) } })
    expect(await raw.waitFor((m) => m.t === 'err')).toMatchObject({ id: 41, code: 'TOO_LARGE' })
    raw.send({ t: 'pub', id: 42, ch: 'a', d: 'x'.repeat(100_000) })
    expect(await raw.waitFor((m) => m.t === 'err' && m.id === 42)).toMatchObject({ code: 'TOO_LARGE' })
  })
})

describe('deeply nested values', () => {
  it('every SDK call with data nested 100,000 deep rejects with SwitchboardError INVALID_DATA', async () => {
    const { url } = await res.server()
    const sb = await res.connected(url)
    const errors = connectionErrors(sb)
    const deep = nested(100_000)
    const rec = sb.record('docs/deep')
    await rec.ready
    const attempts = [
      rec.set(deep),
      rec.set('path', deep),
      rec.update({ push: { list: deep } }),
      sb.publish('deep/1', deep),
      sb.rpc.call('deep', deep),
    ]
    for (const attempt of attempts) {
      const err = await rejection(attempt)
      expect(err).toBeInstanceOf(SwitchboardError)
      expect(err).toMatchObject({ code: 'INVALID_DATA', message: 'data is nested deeper than 32 levels' })
    }
    expect(rec.exists).toBe(false)
    expect(errors).toEqual([])
    await expect(sb.publish('deep/1', nested(20))).resolves.toMatchObject({ offset: 1 })
  })

  it('the server refuses data deeper than maxJsonDepth from any client, with the request id', async () => {
    const { url } = await res.server({ limits: { maxJsonDepth: 8 } })
    const raw = res.add(await RawClient.open(url), (c) => c.close())
    raw.send({ t: 'rset', id: 7, n: 'docs/deep', d: nested(10) })
    expect(await raw.waitFor((m) => m.id === 7)).toMatchObject({ t: 'err', code: 'INVALID_DATA' })
    raw.send({ t: 'rset', id: 8, n: 'docs/deep', d: nested(5) })
    expect(await raw.waitFor((m) => m.id === 8)).toMatchObject({ t: 'ok' })
  })
})
