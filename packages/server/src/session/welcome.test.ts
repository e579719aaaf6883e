import { PROTOCOL_VERSION } from '@switchboard/protocol'
import { describe, expect, it } from 'vitest'
import { publishAck } from '../channels/handlers.js'
import { resolveConfig } from '../config/resolve.js'
import { welcomeText } from './welcome.js'

describe('pre-encoded frames', () => {
  it('the welcome is the text JSON.stringify gives, per server config and user', () => {
    const config = resolveConfig({ server: { heartbeat: { intervalMs: 7000, timeoutMs: 21000 } } })
    const { maxMessageBytes, maxJsonDepth, maxUpdateOps } = config.limits
    const expected = (id: number, client: string, user: unknown) =>
      JSON.stringify({
        t: 'welcome',
        id,
        v: PROTOCOL_VERSION,
        client,
        user,
        hb: { interval: 7000, timeout: 21000, polls: true },
        limits: { maxMessageBytes, maxJsonDepth, maxUpdateOps },
      })
    expect(welcomeText(3, 'aB-_x', null, config)).toBe(expected(3, 'aB-_x', null))
    const user = { id: 'u"1', role: 'admin', tags: ['a', 'b'] }
    expect(welcomeText(0, 'c', user, config)).toBe(expected(0, 'c', user))
    const other = resolveConfig({ limits: { maxMessageBytes: 1234 } })
    expect(JSON.parse(welcomeText(1, 'c', null, other)).limits.maxMessageBytes).toBe(1234)
    expect(JSON.parse(welcomeText(1, 'c', null, other)).hb).toEqual({ interval: 10000, timeout: 30000, polls: true })
  })

  it('the publish ack is the text JSON.stringify gives', () => {
    const ack = (id: number, o: number, e: string) => JSON.stringify({ t: 'ok', id, r: { o, e } })
    expect(publishAck(5, 43, 'Xy_-z')).toBe(ack(5, 43, 'Xy_-z'))
    expect(publishAck(Number.MAX_SAFE_INTEGER, 0, 'a"b\\c')).toBe(ack(Number.MAX_SAFE_INTEGER, 0, 'a"b\\c'))
  })
})
