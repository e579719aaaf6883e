import { CloseCode, type ServerMessage } from '@switchboard/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TransportName } from '../transport/names.js'
import type { ClientTransportEvents, TransportFactory, UpgradeRefusal } from '../transport/transport.js'
import { Attempt } from './attempt.js'
import type { AttemptEnd } from './state-machine.js'

/** One attempt over a scripted transport: the test plays the server. */
function scripted(name: TransportName = 'websocket') {
  let server!: ClientTransportEvents
  const sent: { t: string; id?: number }[] = []
  const factory: TransportFactory = (_url, events) => {
    server = events
    return {
      send: (f) => void sent.push(JSON.parse(f)),
      close: (code, reason) => events.onClose(code ?? 0, reason ?? ''),
    }
  }
  const ends: AttemptEnd[] = []
  const messages: ServerMessage[] = []
  const welcomes: unknown[] = []
  const attempt = new Attempt(
    { token: 'tok', transportTimeoutMs: 3000, agent: 'test' },
    'http://x.invalid',
    [{ name, factory }],
    {
      onWelcome: (w) => welcomes.push(w),
      onMessage: (m) => messages.push(m),
      onInvalidFrame: () => {},
      onEnd: (e) => ends.push(e),
    },
  )
  return { attempt, server: () => server, sent, ends, messages, welcomes }
}

const welcome = { t: 'welcome', id: 0, v: 1, client: 'c', user: null, hb: { interval: 10_000, timeout: 30_000 } }

describe('one connection attempt', () => {
  it('answers pings with a pong, except over long-polling to a server that hears polls (hb.polls)', async () => {
    const pongsAfterPing = async (name: TransportName, hb: object) => {
      const a = scripted(name)
      await a.attempt.start()
      a.server().onOpen()
      a.server().onFrame(JSON.stringify({ ...welcome, hb }))
      a.server().onFrame('{"t":"ping"}')
      return a.sent.filter((m) => m.t === 'pong').length
    }
    const hears = { interval: 10_000, timeout: 30_000, polls: true }
    expect(await pongsAfterPing('longpoll', hears)).toBe(0)
    expect(await pongsAfterPing('longpoll', welcome.hb)).toBe(1) // an older server: it needs the pong
    expect(await pongsAfterPing('sse', hears)).toBe(1) // an event stream has no upstream to hear
    expect(await pongsAfterPing('websocket', hears)).toBe(1)
  })

  it("an err during the handshake is the server's refusal: it travels with the close, with its retry hint", async () => {
    const a = scripted()
    await a.attempt.start()
    a.server().onOpen()
    expect(a.sent[0]).toMatchObject({ t: 'hello', id: 0, token: 'tok' })
    a.server().onFrame(JSON.stringify({ t: 'err', code: 'RATE_LIMITED', msg: 'full', data: { retryAfterMs: 2500 } }))
    expect(a.messages).toEqual([])
    a.server().onClose(CloseCode.CONNECTION_LIMIT, 'refused')
    expect(a.ends).toEqual([
      {
        code: CloseCode.CONNECTION_LIMIT,
        reason: 'refused',
        error: expect.objectContaining({ code: 'RATE_LIMITED', message: 'full' }),
        retryAfterMs: 2500,
      },
    ])
  })

  it('an err that turns out not to refuse anything (a welcome follows) is passed on after the welcome', async () => {
    const a = scripted()
    await a.attempt.start()
    a.server().onOpen()
    a.server().onFrame(JSON.stringify([{ t: 'err', code: 'INTERNAL', msg: 'hiccup' }, welcome]))
    expect(a.welcomes).toHaveLength(1)
    expect(a.messages).toEqual([{ t: 'err', code: 'INTERNAL', msg: 'hiccup' }])
    a.server().onClose(CloseCode.ABNORMAL, '')
    expect(a.ends).toEqual([{ code: CloseCode.ABNORMAL, reason: '' }])
  })

  it('an abandoned attempt reports nothing more', async () => {
    const a = scripted()
    await a.attempt.start()
    a.server().onOpen()
    a.attempt.abandon(CloseCode.NORMAL, 'client closed')
    a.server().onFrame(JSON.stringify(welcome))
    expect(a.ends).toEqual([])
    expect(a.welcomes).toEqual([])
  })

  it('a server that sends something that is not a message object is reported, not crashed on', async () => {
    const invalid: string[] = []
    const a = new Attempt(
      { agent: 'test', transportTimeoutMs: 3000 },
      'http://x.invalid',
      [
        {
          name: 'websocket',
          factory: (_u, e) => {
            queueMicrotask(() => e.onFrame('null'))
            return { send() {}, close() {} }
          },
        },
      ],
      { onWelcome() {}, onMessage() {}, onInvalidFrame: (e) => invalid.push(e.code), onEnd() {} },
    )
    await a.start()
    await Promise.resolve()
    expect(invalid).toEqual(['INVALID_MESSAGE'])
  })
})

/**
 * Three scripted transports, each behaving as `plan` says: 'refuse' (HTTP status before any
 * frame), 'drop' (closes before any frame), 'hang' (never opens), 'deny' (opens, then the server
 * answers the hello with AUTH_FAILED and closes), 'limit' (opens, then the server closes with
 * 4006 and no frame), 'welcome'.
 */
function negotiating(plan: Record<TransportName, 'refuse' | 'drop' | 'hang' | 'deny' | 'limit' | 'welcome'>) {
  const tried: TransportName[] = []
  const closed: TransportName[] = []
  const later = (f: () => void) => void Promise.resolve().then(f)
  const transport =
    (name: TransportName): TransportFactory =>
    (_url, events) => {
      tried.push(name)
      const refusal: UpgradeRefusal = { status: 503, retryAfterMs: 1000 }
      if (plan[name] === 'refuse') later(() => events.onClose(1006, '', refusal))
      if (plan[name] === 'drop') later(() => events.onClose(1006, 'dropped'))
      if (plan[name] === 'limit') later(() => events.onClose(CloseCode.CONNECTION_LIMIT, 'refused'))
      if (plan[name] === 'deny' || plan[name] === 'welcome') later(() => events.onOpen())
      return {
        send(frame) {
          const m = JSON.parse(frame) as { t: string; id: number }
          if (m.t !== 'hello') return
          if (plan[name] === 'welcome') later(() => events.onFrame(JSON.stringify({ ...welcome, id: m.id })))
          else
            later(() => {
              events.onFrame(JSON.stringify({ t: 'err', id: m.id, code: 'AUTH_FAILED', msg: 'bad token' }))
              events.onClose(CloseCode.AUTH_FAILED, 'bad token')
            })
        },
        close: () => void closed.push(name),
      }
    }
  const ends: AttemptEnd[] = []
  const welcomes: unknown[] = []
  const attempt = new Attempt(
    { token: 'tok', transportTimeoutMs: 3000, agent: 'test' },
    'http://x.invalid',
    (['websocket', 'sse', 'longpoll'] as const).map((name) => ({ name, factory: transport(name) })),
    { onWelcome: (w) => welcomes.push(w), onMessage() {}, onInvalidFrame() {}, onEnd: (e) => ends.push(e) },
  )
  return { attempt, tried, closed, ends, welcomes }
}

const settle = () => new Promise((r) => setTimeout(r, 0))

describe('choosing a transport', () => {
  afterEach(() => void vi.useRealTimers())

  it('gives up a transport that is refused or dropped before the server said anything, for the next', async () => {
    const a = negotiating({ websocket: 'refuse', sse: 'drop', longpoll: 'welcome' })
    await a.attempt.start()
    await settle()
    expect(a.tried).toEqual(['websocket', 'sse', 'longpoll'])
    expect(a.welcomes).toHaveLength(1)
    expect(a.attempt.transportName).toBe('longpoll')
    expect(a.ends).toEqual([])
  })

  it('gives up a transport that has not opened within transportTimeoutMs (a proxy holding the stream back)', async () => {
    vi.useFakeTimers()
    const a = negotiating({ websocket: 'hang', sse: 'hang', longpoll: 'welcome' })
    await a.attempt.start()
    await vi.advanceTimersByTimeAsync(2999)
    expect(a.tried).toEqual(['websocket'])
    await vi.advanceTimersByTimeAsync(1)
    expect(a.tried).toEqual(['websocket', 'sse'])
    expect(a.closed).toEqual(['websocket'])
    await vi.advanceTimersByTimeAsync(3000)
    expect(a.tried).toEqual(['websocket', 'sse', 'longpoll'])
    expect(a.closed).toEqual(['websocket', 'sse'])
    expect(a.welcomes).toHaveLength(1)
  })

  it('ends an attempt whose last transport never opens, or opens and never brings the welcome (a black hole)', async () => {
    vi.useFakeTimers()
    // Every transport hangs: the first two are given up after transportTimeoutMs, the last one
    // (which has no such timeout) when the handshake bound runs out.
    const hung = negotiating({ websocket: 'hang', sse: 'hang', longpoll: 'hang' })
    await hung.attempt.start()
    await vi.advanceTimersByTimeAsync(6000 + 29_000)
    expect(hung.tried).toEqual(['websocket', 'sse', 'longpoll'])
    expect(hung.closed).toEqual(['websocket', 'sse'])
    await vi.advanceTimersByTimeAsync(2000)
    expect(hung.closed).toEqual(['websocket', 'sse', 'longpoll'])

    // A transport that never opens ends the attempt (the close reports the end).
    const unopened = scripted()
    await unopened.attempt.start()
    await vi.advanceTimersByTimeAsync(29_000)
    expect(unopened.ends).toEqual([])
    await vi.advanceTimersByTimeAsync(2000)
    expect(unopened.ends).toEqual([expect.objectContaining({ code: CloseCode.HEARTBEAT_TIMEOUT })])

    const silent = scripted()
    await silent.attempt.start()
    silent.server().onOpen()
    expect(silent.sent.map((m) => m.t)).toEqual(['hello'])
    await vi.advanceTimersByTimeAsync(29_000)
    expect(silent.ends).toEqual([])
    await vi.advanceTimersByTimeAsync(2000)
    expect(silent.ends).toEqual([expect.objectContaining({ code: CloseCode.HEARTBEAT_TIMEOUT })])
  })

  it('does not fall back once the server answered: its refusal ends the attempt', async () => {
    const a = negotiating({ websocket: 'deny', sse: 'welcome', longpoll: 'welcome' })
    await a.attempt.start()
    await settle()
    expect(a.tried).toEqual(['websocket'])
    expect(a.ends).toEqual([
      { code: CloseCode.AUTH_FAILED, reason: 'bad token', error: expect.objectContaining({ code: 'AUTH_FAILED' }) },
    ])
  })

  it("a close code of the server's own (4000 and up) is its answer too, even without a frame", async () => {
    const a = negotiating({ websocket: 'limit', sse: 'welcome', longpoll: 'welcome' })
    await a.attempt.start()
    await settle()
    expect(a.tried).toEqual(['websocket'])
    expect(a.ends).toEqual([{ code: CloseCode.CONNECTION_LIMIT, reason: 'refused' }])
  })

  it('when every transport fails, ends as the last one ended (its refusal and Retry-After included)', async () => {
    const a = negotiating({ websocket: 'drop', sse: 'drop', longpoll: 'refuse' })
    await a.attempt.start()
    await settle()
    expect(a.tried).toEqual(['websocket', 'sse', 'longpoll'])
    expect(a.ends).toEqual([
      {
        code: 1006,
        reason: '',
        error: expect.objectContaining({ code: 'UNAVAILABLE' }),
        retryAfterMs: 1000,
      },
    ])
  })
})
