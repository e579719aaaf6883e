import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { parsePath } from '@switchboard/protocol'
import { Resources } from '../support/server.js'
import { RawClient } from '../support/raw-client.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)

/** Payload attacks: each gets its exact error, and no subscriber ever sees any of it. */
const payloads: { name: string; frame: string; code: string }[] = [
  {
    name: 'oversized publication',
    frame: JSON.stringify({ t: 'pub', id: 1, ch: 'room', d: 'x'.repeat(40_000) }),
    code: 'TOO_LARGE',
  },
  { name: 'deeply nested data', frame: `{"t":"pub","id":1,"ch":"room","d":${deep(40)}}`, code: 'INVALID_DATA' },
  {
    name: 'absurdly nested data',
    frame: `{"t":"pub","id":1,"ch":"room","d":${'['.repeat(15_000)}${']'.repeat(15_000)}}`,
    code: 'INVALID_DATA',
  },
  {
    name: '__proto__ data key',
    frame: '{"t":"pub","id":1,"ch":"room","d":{"profile":{"__proto__":{"isAdmin":true}}}}',
    code: 'INVALID_DATA',
  },
  {
    name: '__proto__ key inside a list',
    frame: '{"t":"pub","id":1,"ch":"room","d":[1,{"__proto__":{"isAdmin":true}}]}',
    code: 'INVALID_DATA',
  },
  {
    name: '__proto__ as a message key',
    frame: '{"t":"pub","id":1,"ch":"room","d":1,"__proto__":{"t":"hello"}}',
    code: 'INVALID_MESSAGE',
  },
  {
    name: 'an oversized token',
    frame: JSON.stringify({ t: 'refresh', id: 1, token: 'x'.repeat(20_000) }),
    code: 'INVALID_MESSAGE',
  },
]

describe('payload attacks', () => {
  it.each(payloads)(
    '$name → $code; nothing reaches subscribers; the prototype is untouched',
    async ({ frame, code }) => {
      const { url } = await res.server({ limits: { maxMessageBytes: '32KiB', maxJsonDepth: 16 } })
      const watcher = res.add(await RawClient.open(url), (c) => c.close())
      watcher.send({ t: 'sub', id: 1, ch: 'room' })
      await watcher.waitFor((m) => m.t === 'ok' && m.id === 1)
      const attacker = res.add(await RawClient.open(url), (c) => c.close())
      attacker.send(frame)
      expect(await attacker.waitFor((m) => m.t === 'err')).toMatchObject({ code })
      attacker.send({ t: 'pub', id: 2, ch: 'room', d: 'marker' })
      await watcher.waitFor((m) => m.t === 'msg' && m.d === 'marker')
      expect(watcher.messages.filter((m) => m.t === 'msg').map((m) => m.d)).toEqual(['marker'])
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
    },
  )

  it('record paths reject __proto__, prototype and constructor segments', () => {
    for (const path of ['__proto__', 'a.__proto__.b', 'prototype.x', 'x.constructor', 'items.0.constructor'])
      expect(parsePath(path)).toBeNull()
    expect(parsePath('address.city')).toEqual(['address', 'city'])
  })
})

describe('slow handshakes', () => {
  it('a WebSocket that never says hello is closed with 4003 HANDSHAKE_TIMEOUT', async () => {
    const { url } = await res.server({ server: { handshakeTimeoutMs: 300 } })
    const c = res.add(await RawClient.open(url, { hello: false }), (x) => x.close())
    expect((await c.waitClosed()).code).toBe(4003)
    expect(c.messages).toEqual([])
  })

  it('slowloris: a connection that dribbles its HTTP headers (or sends nothing) gets 408 and is cut; others are served', async () => {
    const { url, port } = await res.server({ server: { handshakeTimeoutMs: 500 } })
    const slow = (greeting: string | undefined) => {
      const socket = res.add(net.connect(port, '127.0.0.1'), (s) => s.destroy())
      const seen = { closed: false, received: '' }
      socket.on('data', (d: Buffer) => (seen.received += d.toString()))
      socket.on('close', () => (seen.closed = true)).on('error', () => {})
      if (greeting !== undefined) {
        socket.write(greeting)
        const drip = setInterval(() => {
          if (!socket.destroyed) socket.write(`X-Slow-${Math.random().toString(36).slice(2)}: 1\r\n`)
        }, 100)
        res.add(drip, (t) => clearInterval(t))
      }
      return seen
    }
    const dribbler = slow('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n')
    const silent = slow(undefined)
    await waitFor(() => dribbler.closed && silent.closed, 'the server to cut both slow connections', 10_000)
    expect(dribbler.received).toMatch(/^HTTP\/1\.1 408 /)
    expect(silent.received).toMatch(/^HTTP\/1\.1 408 /)
    const sb = await res.connected(url)
    expect(sb.state).toBe('connected')
  })
})

describe('connection flood', () => {
  it('one address gets at most limits.maxConnectionsPerIp connections (refused with TOO_MANY_CONNECTIONS and close 4006); a slot frees when one closes', async () => {
    const { url, server } = await res.server({ limits: { maxConnectionsPerIp: 5 } })
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => RawClient.open(url).then((c) => res.add(c, (x) => x.close()))),
    )
    const refused = await Promise.allSettled(
      Array.from({ length: 20 }, () => RawClient.open(url).then((c) => res.add(c, (x) => x.close()))),
    )
    expect(refused.every((r) => r.status === 'rejected')).toBe(true)
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/4006 too many connections/)
    expect(server.connectionCount()).toBe(5)
    // The ones inside the limit are unaffected.
    clients[0]!.send({ t: 'pub', id: 9, ch: 'a', d: 1 })
    await clients[0]!.waitFor((m) => m.id === 9 && m.t === 'ok')
    clients[1]!.close()
    await waitFor(() => server.connectionCount() === 4, 'the closed connection to be released')
    const again = await waitFor(
      () =>
        RawClient.open(url)
          .then((c) => res.add(c, (x) => x.close()))
          .catch(() => undefined),
      'a free slot',
    )
    expect(again.closed).toBeUndefined()
  })
})
