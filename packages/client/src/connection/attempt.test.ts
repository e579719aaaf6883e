import { CloseCode, type ServerMessage } from '@switchboard/protocol'
import { describe, expect, it } from 'vitest'
import type { ClientTransportEvents, TransportFactory } from '../transport/transport.js'
import { Attempt } from './attempt.js'
import type { AttemptEnd } from './state-machine.js'

/** One attempt over a scripted transport: the test plays the server. */
function scripted() {
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
    { url: 'http://x.invalid', token: 'tok', transport: factory, agent: 'test' },
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
      {
        url: 'http://x.invalid',
        token: undefined,
        agent: 'test',
        transport: (_u, e) => {
          queueMicrotask(() => e.onFrame('null'))
          return { send() {}, close() {} }
        },
      },
      { onWelcome() {}, onMessage() {}, onInvalidFrame: (e) => invalid.push(e.code), onEnd() {} },
    )
    await a.start()
    await Promise.resolve()
    expect(invalid).toEqual(['INVALID_MESSAGE'])
  })
})
