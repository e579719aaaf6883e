import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode } from '@switchboard/protocol'
import { ManualClock } from '@switchboard/server/contract'
import type { SwitchboardError } from '@switchboard/client'
import { startAuthWebhook, type WebhookAnswer } from '../support/auth-webhook.js'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

// Heartbeats far beyond the times the clock jumps over: only the credentials decide here.
const heartbeat = { intervalMs: 3_600_000, timeoutMs: 7_200_000 }

describe('sessions opened with the auth webhook expire', () => {
  it('after auth.webhook.sessionTtl the client reconnects with the same token, which the webhook checks again', async () => {
    let answer: WebhookAnswer = { status: 200, body: { userId: 'carol' } }
    const hook = res.add(await startAuthWebhook(() => answer), (h) => h.close())
    const clock = new ManualClock()
    const { url } = await res.server(
      { server: { heartbeat }, auth: { anonymous: false, webhook: { url: hook.url, cacheTtl: 0, sessionTtl: '1m' } } },
      { clock },
    )
    // A fixed token: after a JWT's expiry such a client stops; here it must come back.
    const sb = await res.connected(url, {
      token: 'session-cookie',
      reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 },
    })
    const errors: SwitchboardError[] = []
    sb.on('error', (e) => errors.push(e))
    const first = sb.clientId

    clock.advance(59_000)
    expect(hook.calls).toHaveLength(1)
    expect(sb.clientId).toBe(first)
    clock.advance(2_000)
    await waitFor(
      () => hook.calls.length === 2 && sb.state === 'connected' && sb.clientId !== first,
      'a checked reconnect',
    )
    expect(sb.user).toEqual({ id: 'carol' })

    answer = { status: 401 } // the backend revoked the session
    clock.advance(61_000)
    await waitFor(() => sb.state === 'closed', 'the client to stop')
    expect(errors.map((e) => e.code)).toEqual(['AUTH_FAILED'])
  })

  it("the webhook's expiresIn shortens it, and the close is 4009 SESSION_EXPIRED", async () => {
    const hook = res.add(await startAuthWebhook(() => ({ status: 200, body: { userId: 'dan', expiresIn: 10 } })), (h) =>
      h.close(),
    )
    const clock = new ManualClock()
    const { url } = await res.server(
      { server: { heartbeat }, auth: { anonymous: false, webhook: { url: hook.url, sessionTtl: '1h' } } },
      { clock },
    )
    const raw = res.add(await RawClient.open(url, { token: 'opaque' }), (c) => c.close())
    clock.advance(9_000)
    expect(raw.closed).toBeUndefined()
    clock.advance(2_000)
    expect((await raw.waitClosed()).code).toBe(CloseCode.SESSION_EXPIRED)
  })

  it('an invalid expiresIn is an invalid answer', async () => {
    const hook = res.add(
      await startAuthWebhook(() => ({ status: 200, body: { userId: 'erin', expiresIn: -5 } })),
      (h) => h.close(),
    )
    const { url } = await res.server({ auth: { anonymous: false, webhook: { url: hook.url } } })
    const sb = res.client(url, { token: 'opaque' })
    sb.on('error', () => {})
    await expect(sb.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED', message: /invalid answer/ })
  })

  it('sessionTtl 0 and no expiresIn: the session does not expire', async () => {
    const hook = res.add(await startAuthWebhook(() => ({ status: 200, body: { userId: 'fay' } })), (h) => h.close())
    const clock = new ManualClock()
    const { url } = await res.server(
      { server: { heartbeat }, auth: { anonymous: false, webhook: { url: hook.url, sessionTtl: 0 } } },
      { clock },
    )
    const raw = res.add(await RawClient.open(url, { token: 'opaque' }), (c) => c.close())
    clock.advance(3_000_000)
    raw.send({ t: 'ping' })
    await raw.waitFor((m) => m.t === 'pong')
  })
})
