// Drives examples/price-feed as users would: a feeder with a real JWT listens to prices/*,
// watchers subscribe, and the backend receives signed occupancy hooks.
import { afterEach, describe, expect, it } from 'vitest'
import { signDevelopmentToken } from '@switchboard/server'
import { startPriceFeed } from '../../examples/price-feed/app.mjs'
import { startFeeder } from '../../examples/price-feed/feeder.mjs'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

describe('examples/price-feed', () => {
  it('feeds a symbol only while someone watches it; the backend hears occupied and vacated', async () => {
    const hooks: { type: string; name?: string }[] = []
    const app = await startPriceFeed(
      { server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, hooks: { graceMs: 0 } },
      (event: { type: string; name?: string }) => hooks.push(event),
    )
    res.add(app, (a) => a.close())
    const token = await signDevelopmentToken(app.server.config, { user: 'feeder', claims: { roles: ['feeder'] } })
    const feederClient = await res.connected(app.url, { token })
    const feed = res.add(await startFeeder(feederClient, { everyMs: 20 }), (f) => f.stop())
    const watcher = await res.connected(app.url)

    const prices: number[] = []
    const sub = watcher.subscribe('prices/AAPL', (data) => prices.push((data as { price: number }).price))
    await sub.ready
    await waitFor(() => prices.length >= 3, 'prices while watched')
    expect(feed.active()).toEqual(new Set(['prices/AAPL']))
    await waitFor(() => hooks.some((e) => e.type === 'occupied' && e.name === 'prices/AAPL'), 'the occupied hook')

    sub.unsubscribe()
    await waitFor(() => feed.active().size === 0, 'the feed to stop')
    await waitFor(() => hooks.some((e) => e.type === 'vacated' && e.name === 'prices/AAPL'), 'the vacated hook')
  })

  it('only feeders may listen', async () => {
    const app = await startPriceFeed({ server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } }, () => {})
    res.add(app, (a) => a.close())
    const anonymous = await res.connected(app.url)
    await expect(startFeeder(anonymous)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
  })
})
