import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { CloseCode } from '@switchboard/protocol'
import type { Switchboard, SwitchboardError } from '@switchboard/client'
import { Resources } from '../support/server.js'
import { hsToken, SECRET } from '../support/jwt.js'
import { nextEvent } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

/** `promise`, or a failure naming `what` after `ms`: an old client's connect() never settles. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function errorsOf(sb: Switchboard): SwitchboardError[] {
  const errors: SwitchboardError[] = []
  sb.on('error', (e) => errors.push(e))
  return errors
}

const connectedAgain = (sb: Switchboard) =>
  nextEvent<void>((listener) => sb.on('state', (s) => s === 'connected' && listener()), 'state connected')

describe('sb.connect() when the server refuses', () => {
  it('a bad JWT rejects connect() with AUTH_FAILED and the client stops', async () => {
    const { url } = await res.server({ auth: { anonymous: false, jwt: { secret: SECRET } } })
    const sb = res.client(url, { token: await hsToken('alice', {}, { secret: 'another-secret-'.repeat(4) }) })
    const errors = errorsOf(sb)
    await expect(within(sb.connect(), 'connect()')).rejects.toMatchObject({
      name: 'SwitchboardError',
      code: 'AUTH_FAILED',
      message: expect.stringMatching(/signature is invalid/),
    })
    expect(sb.state).toBe('closed')
    expect(errors.map((e) => e.code)).toEqual(['AUTH_FAILED'])
    // Stopped for good: what the app sends now fails at once.
    await expect(sb.publish('chat/1', 'x')).rejects.toMatchObject({ code: 'CLOSED' })
  })

  it('a token function that fails rejects connect() with AUTH_FAILED and the client stops', async () => {
    const { url } = await res.server({ auth: { anonymous: false, jwt: { secret: SECRET } } })
    const sb = res.client(url, { token: () => Promise.reject(new Error('login service down')) })
    const errors = errorsOf(sb)
    await expect(within(sb.connect(), 'connect()')).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringMatching(/login service down/),
    })
    expect(sb.state).toBe('closed')
    expect(errors.map((e) => e.code)).toEqual(['AUTH_FAILED'])
  })

  it('over limits.maxConnectionsPerIp: connect() rejects with TOO_MANY_CONNECTIONS, the client retries and connects once a slot frees', async () => {
    const { url } = await res.server({ limits: { maxConnectionsPerIp: 1 } })
    const first = await res.connected(url)
    const second = res.client(url)
    const errors = errorsOf(second)

    await expect(within(second.connect(), 'connect() of the client over the limit')).rejects.toMatchObject({
      code: 'TOO_MANY_CONNECTIONS',
      retryable: true,
      message: expect.stringMatching(/maxConnectionsPerIp/),
    })
    expect(errors[0]).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' })
    expect(second.state).toBe('reconnecting') // it keeps trying with backoff

    const up = connectedAgain(second)
    await first.close()
    await up
    expect(second.state).toBe('connected')
    await expect(within(second.connect(), 'connect() once connected')).resolves.toBeUndefined()
    const sub = second.subscribe('chat/1', () => {})
    await sub.ready
  })
})

/**
 * A server that accepts the socket, then refuses the session (the other form a limit can take):
 * the first `refusals` connections get `frames` and a close with `code`; later ones are welcomed.
 */
async function refusingServer(refusals: number, frames: unknown[], code: number) {
  const wss = res.add(new WebSocketServer({ host: '127.0.0.1', port: 0 }), (s) => new Promise((r) => s.close(r)))
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  let connections = 0
  wss.on('connection', (ws) => {
    if (++connections <= refusals) {
      for (const f of frames) ws.send(JSON.stringify(f))
      ws.close(code, 'refused')
      return
    }
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { t: string; id: number }
      if (m.t === 'hello') {
        const hb = { interval: 10_000, timeout: 30_000 }
        ws.send(JSON.stringify({ t: 'welcome', id: m.id, v: 1, client: `c${connections}`, user: null, hb }))
      }
    })
  })
  return `http://127.0.0.1:${(wss.address() as AddressInfo).port}`
}

describe('a session refused after the upgrade (err frame and/or close code)', () => {
  const limit = { t: 'err', code: 'RATE_LIMITED', msg: 'limits.connectsPerSecond reached' }
  it.each([
    {
      name: 'err frame, then close CONNECTION_LIMIT',
      frames: [limit],
      code: 'RATE_LIMITED',
      message: /connectsPerSecond/,
    },
    { name: 'close CONNECTION_LIMIT alone', frames: [], code: 'TOO_MANY_CONNECTIONS', message: /refused/ },
  ])('$name: connect() rejects with $code, then the client connects', async ({ frames, code, message }) => {
    const url = await refusingServer(2, frames, CloseCode.CONNECTION_LIMIT)
    const sb = res.client(url, { transports: ['websocket'] }) // the stub speaks WebSocket only
    const errors = errorsOf(sb)
    const up = connectedAgain(sb)
    await expect(within(sb.connect(), 'connect()')).rejects.toMatchObject({ code, message })
    await up
    expect(sb.clientId).toBe('c3')
    expect(errors.map((e) => e.code)).toEqual([code, code])
  })
})

describe('a connection refused at the upgrade with an HTTP status (as a proxy may answer)', () => {
  it('429: connect() rejects with RATE_LIMITED carrying the status, then the client connects', async () => {
    const wss = new WebSocketServer({ noServer: true })
    let upgrades = 0
    const server = http.createServer()
    server.on('upgrade', (req, socket, head) => {
      if (++upgrades <= 1) {
        socket.end('HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
        return
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data) => {
          const m = JSON.parse(data.toString()) as { t: string; id: number }
          const hb = { interval: 10_000, timeout: 30_000 }
          if (m.t === 'hello') ws.send(JSON.stringify({ t: 'welcome', id: m.id, v: 1, client: 'c2', user: null, hb }))
        })
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    res.add(server, (x) => new Promise((r) => x.close(() => r(undefined))))
    res.add(wss, (x) => new Promise((r) => x.close(() => r(undefined))))
    // The stub speaks WebSocket only (its HTTP requests are never answered).
    const sb = res.client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { transports: ['websocket'] })
    const errors = errorsOf(sb)
    const up = connectedAgain(sb)
    await expect(within(sb.connect(), 'connect()')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      data: { status: 429 },
    })
    await up
    expect(sb.clientId).toBe('c2')
    expect(errors.map((e) => e.code)).toEqual(['RATE_LIMITED'])
  })
})
