import { afterEach, describe, expect, it } from 'vitest'
import { CliServer } from '../support/cli-server.js'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

describe('SIGTERM drain (the real CLI process)', () => {
  it('clients move to the second server from their URL list; the drained process exits 0', async () => {
    // A short window keeps the test short; the spread itself is tested in drain.test.ts.
    const a = res.add(await CliServer.start({ env: { SWITCHBOARD_SERVER_DRAIN_WINDOWMS: '1000' } }), (s) => s.kill())
    const b = res.add(await CliServer.start(), (s) => s.kill())
    // Reconnect backoff of a minute: only the drain's own hint (4008 DRAINING) can make this pass.
    const opts = { reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } }
    const clients = await Promise.all(Array.from({ length: 5 }, () => res.connected([a.url, b.url], opts)))
    const watcher = await res.connected(b.url)
    const got: string[] = []
    await watcher.subscribe('drain/check', (d) => got.push(d as string)).ready

    const code = await a.stop()
    expect(code).toBe(0)
    await waitFor(() => clients.every((c) => c.state === 'connected'), 'every client to reconnect to b', 15_000)
    // They are really on b: publishing from each reaches a subscriber on b.
    await Promise.all(clients.map((c, i) => c.publish('drain/check', `c${i}`)))
    await waitFor(() => got.length === 5, 'publications through b')
    expect(got.sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4'])
  })
})
