import { afterEach, describe, expect, it } from 'vitest'
import { SignJWT } from 'jose'
import { MemoryHub, type SwitchboardConfigInput } from '@switchboard/server'
import { ManualClock } from '@switchboard/server/contract'
import type { Switchboard, SwitchboardError } from '@switchboard/client'
import { startAuthWebhook } from '../support/auth-webhook.js'
import { SECRET } from '../support/jwt.js'
import { Resources } from '../support/server.js'
import { nextEvent, waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const API_KEY = 'backend-key-0123456789-abcdefghijklmnop'
const config: SwitchboardConfigInput = { auth: { anonymous: false, jwt: { secret: SECRET }, apiKeys: [API_KEY] } }

/** An HS256 token issued `iatOffsetSec` from now (the revocation compares `iat` with its time). */
function token(sub: string, iatOffsetSec = 0): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(now + iatOffsetSec)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(SECRET))
}

function stopped(sb: Switchboard): Promise<SwitchboardError> {
  return nextEvent<SwitchboardError>((l) => sb.on('error', l), 'the client to report its end')
}

describe('revocation by user id', () => {
  it("server.revoke ends the user's sessions on every node, refuses the tokens they had, and spares everyone else", async () => {
    const hub = new MemoryHub()
    // The servers' clock runs 5 s ahead of the tokens' issuer: every token minted now predates a revocation.
    const clock = () => new ManualClock(Date.now() + 5_000)
    const a = await res.server(config, { engine: hub.engine(), clock: clock() })
    const b = await res.server(config, { engine: hub.engine(), clock: clock() })
    const old = await token('alice')
    const alice = await Promise.all([a.url, a.url, b.url].map((url) => res.connected(url, { token: old })))
    const bob = await res.connected(b.url, { token: await token('bob') })
    const ends = alice.map(stopped)

    await a.server.revoke('alice')
    for (const e of await Promise.all(ends)) expect(e).toMatchObject({ code: 'AUTH_FAILED' })
    await waitFor(() => alice.every((c) => c.state === 'closed'), 'every alice client to stop')
    expect(bob.state).toBe('connected')
    expect(a.server.connectionCount() + b.server.connectionCount()).toBe(1)

    for (const url of [a.url, b.url]) {
      const again = res.client(url, { token: old })
      again.on('error', () => {})
      await expect(again.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED', message: /access revoked/ })
    }
    // A token issued after the revocation (she signed in again) is accepted.
    const fresh = await res.connected(b.url, { token: await token('alice', 10) })
    expect(fresh.user?.id).toBe('alice')
  })

  it('POST /api/revoke needs an API key and a { userId } body', async () => {
    const { url } = await res.server(config, { clock: new ManualClock(Date.now() + 5_000) })
    const carol = await res.connected(url, { token: await token('carol') })
    const end = stopped(carol)
    const post = (auth: string, body: unknown) =>
      fetch(`${url}/api/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await post(await token('mallory'), { userId: 'carol' })).status).toBe(403)
    expect((await post(API_KEY, { user: 'carol' })).status).toBe(400)
    expect(carol.state).toBe('connected')
    const ok = await post(API_KEY, { userId: 'carol' })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ revoked: 'carol' })
    expect(await end).toMatchObject({ code: 'AUTH_FAILED' })
  })

  it("a webhook user's cached accept from before the revocation is refused; the webhook's next answer is not", async () => {
    const hook = res.add(await startAuthWebhook(() => ({ status: 200, body: { userId: 'dora' } })), (h) => h.close())
    const clock = new ManualClock()
    const { url, server } = await res.server(
      { auth: { anonymous: false, webhook: { url: hook.url, cacheTtl: '1m' } } },
      { clock },
    )
    const dora = await res.connected(url, { token: 'opaque' })
    const end = stopped(dora)
    clock.advance(1_000)
    await server.revoke('dora')
    expect(await end).toMatchObject({ code: 'AUTH_FAILED' })
    const cached = res.client(url, { token: 'opaque' })
    cached.on('error', () => {})
    await expect(cached.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED', message: /access revoked/ })
    expect(hook.calls).toHaveLength(1)
    clock.advance(61_000) // the cache entry ages out: the webhook is asked, and vouches anew
    await res.connected(url, { token: 'opaque' })
    expect(hook.calls).toHaveLength(2)
  })
})
