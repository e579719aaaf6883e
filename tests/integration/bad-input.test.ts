import { afterEach, describe, expect, it } from 'vitest'
import { Resources } from '../support/server.js'
import { RawClient } from '../support/raw-client.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)

/** Each bad frame, and the error that connection must get for it. */
const cases: { name: string; frame: string; code: string; id?: number }[] = [
  { name: 'invalid JSON', frame: '{"t":"pub",', code: 'INVALID_MESSAGE' },
  { name: 'not an object', frame: '42', code: 'INVALID_MESSAGE' },
  { name: 'unknown message type', frame: '{"t":"explode","id":7}', code: 'INVALID_MESSAGE', id: 7 },
  { name: 'wrong field type', frame: '{"t":"pub","id":8,"ch":123,"d":1}', code: 'INVALID_MESSAGE', id: 8 },
  { name: 'missing field', frame: '{"t":"sub","id":9}', code: 'INVALID_MESSAGE', id: 9 },
  { name: 'extra field', frame: '{"t":"unsub","id":10,"ch":"a","evil":true}', code: 'INVALID_MESSAGE', id: 10 },
  { name: 'negative id', frame: '{"t":"pub","id":-1,"ch":"a","d":1}', code: 'INVALID_MESSAGE' },
  { name: 'invalid channel name', frame: '{"t":"pub","id":11,"ch":"a b","d":1}', code: 'INVALID_NAME', id: 11 },
  {
    name: 'oversized frame',
    frame: JSON.stringify({ t: 'pub', id: 12, ch: 'a', d: 'x'.repeat(70_000) }),
    code: 'TOO_LARGE',
    id: 12, // read from the frame's head, without parsing the rest
  },
  { name: 'deeply nested JSON', frame: `{"t":"pub","id":13,"ch":"a","d":${deep(100)}}`, code: 'INVALID_DATA', id: 13 },
  {
    name: 'absurdly nested JSON',
    frame: `{"t":"pub","id":14,"ch":"a","d":${deep(20_000)}}`,
    code: 'INVALID_DATA',
    id: 14,
  },
  {
    name: '__proto__ key',
    frame: '{"t":"pub","id":15,"ch":"a","d":{"x":{"__proto__":{"polluted":1}}}}',
    code: 'INVALID_DATA',
    id: 15,
  },
  {
    name: '__proto__ at the top',
    frame: '{"__proto__":{"t":"ping"},"t":"pub","id":16,"ch":"a","d":1}',
    code: 'INVALID_MESSAGE',
    id: 16,
  },
  { name: 'hello twice', frame: '{"t":"hello","id":17,"v":1}', code: 'INVALID_MESSAGE', id: 17 },
  {
    name: 'too many messages in a batch',
    frame: JSON.stringify(Array.from({ length: 1001 }, () => ({ t: 'ping' }))),
    code: 'INVALID_MESSAGE',
  },
  {
    name: 'unsubscribe without subscription',
    frame: '{"t":"unsub","id":18,"ch":"nope"}',
    code: 'NOT_SUBSCRIBED',
    id: 18,
  },
]

describe('bad input', () => {
  it.each(cases)(
    '$name → $code for that connection only; the server and other clients carry on',
    async ({ frame, code, id }) => {
      const { url } = await res.server({ limits: { maxMessageBytes: 64 * 1024 } })
      const bystander = await res.connected(url)
      const got: unknown[] = []
      await bystander.subscribe('a', (d) => got.push(d)).ready
      const bad = res.add(await RawClient.open(url), (c) => c.close())
      bad.send(frame)
      const err = await bad.waitFor((m) => m.t === 'err')
      expect(err.code).toBe(code)
      if (id !== undefined) expect(err.id).toBe(id)
      expect(typeof err.msg).toBe('string')
      expect(JSON.stringify(err)).not.toMatch(/at .*\.ts:\d+/) // no stack traces
      // The offending connection still works after one bad frame…
      bad.send({ t: 'pub', id: 100, ch: 'a', d: 'after' })
      await bad.waitFor((m) => m.t === 'ok' && m.id === 100)
      // …and so does everybody else.
      await bystander.publish('a', 'fine')
      await waitFor(() => got.includes('fine') && got.includes('after'), 'bystander deliveries')
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    },
  )

  it('messages before hello get NOT_CONNECTED', async () => {
    const { url } = await res.server()
    const c = res.add(await RawClient.open(url, { hello: false }), (x) => x.close())
    c.send({ t: 'pub', id: 1, ch: 'a', d: 1 })
    expect((await c.waitFor((m) => m.t === 'err')).code).toBe('NOT_CONNECTED')
  })

  it('an unsupported protocol version is refused and closed with 4502', async () => {
    const { url } = await res.server()
    const c = res.add(await RawClient.open(url, { hello: false }), (x) => x.close())
    c.send({ t: 'hello', id: 1, v: 99 })
    expect((await c.waitFor((m) => m.t === 'err')).code).toBe('UNSUPPORTED_VERSION')
    expect((await c.waitClosed()).code).toBe(4502)
  })

  it('repeated invalid messages close the connection with PROTOCOL_ERROR (4501)', async () => {
    const { url } = await res.server()
    const bystander = await res.connected(url)
    const c = res.add(await RawClient.open(url), (x) => x.close())
    for (let i = 0; i < 50; i++) c.send('garbage')
    expect((await c.waitClosed()).code).toBe(4501)
    await expect(bystander.publish('still/up', 1)).resolves.toMatchObject({ offset: 1 })
  })

  it('a flood gets RATE_LIMITED errors, then a close with 4005; others are unaffected', async () => {
    const { url } = await res.server({ limits: { messagesPerSecond: 50, messagesBurst: 20 } })
    const bystander = await res.connected(url)
    const c = res.add(await RawClient.open(url), (x) => x.close())
    for (let i = 1; i <= 200; i++) c.send({ t: 'pub', id: i, ch: 'flood', d: i })
    const limited = await c.waitFor((m) => m.t === 'err' && m.code === 'RATE_LIMITED')
    expect(limited.id).toBeGreaterThanOrEqual(20) // the burst (20, one spent on hello) went through
    expect((await c.waitClosed()).code).toBe(4005)
    await expect(bystander.publish('calm', 1)).resolves.toMatchObject({ offset: 1 })
  })

  it('a frame far beyond the limit is cut by the WebSocket layer (1009)', async () => {
    const { url } = await res.server({ limits: { maxMessageBytes: 1024 } })
    const c = res.add(await RawClient.open(url), (x) => x.close())
    c.send('x'.repeat(100_000))
    expect((await c.waitClosed()).code).toBe(1009)
  })

  it('maxSubscriptionsPerConnection is enforced', async () => {
    const { url } = await res.server({ limits: { maxSubscriptionsPerConnection: 2 } })
    const sb = await res.connected(url)
    await sb.subscribe('s/1', () => {}).ready
    await sb.subscribe('s/2', () => {}).ready
    await expect(sb.subscribe('s/3', () => {}).ready).rejects.toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS' })
  })
})
