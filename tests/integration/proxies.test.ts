// SPEC §5 through a real nginx (the Debian package) in front of the server: a proxy that drops
// WebSocket upgrades, and one that also holds responses back until they end. A default client
// (all three transports, in the default order) falls back, and everything works.
import { afterEach, describe, expect, it } from 'vitest'
import type { Switchboard, TransportName } from '@switchboard/client'
import { Nginx, type NginxSetup } from '../support/nginx.js'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

async function behind(setup: NginxSetup) {
  const target = await res.server({
    channels: { 'room/**': { history: { size: 100 } } },
    server: { trustProxy: ['loopback'] },
  })
  const nginx = res.add(await Nginx.start(setup, target.port), (n) => n.stop())
  return { ...target, nginx }
}

/** A default client: every transport, in the default order, default timeout. */
const defaultClient = (url: string) => res.connected(url, { transports: undefined })

/** Channels, records and RPC both ways through the proxy, against a client connected directly. */
async function worksEndToEnd(sb: Switchboard, directUrl: string) {
  const direct = await res.connected(directUrl)
  const got: unknown[] = []
  await sb.subscribe('room/1', (d) => got.push(d), { recover: true }).ready
  await direct.publish('room/1', 'to the proxied client')
  await sb.publish('room/1', 'from the proxied client')
  await waitFor(() => got.length === 2, 'both publications through the proxy')
  expect(got).toEqual(['to the proxied client', 'from the proxied client'])
  const rec = sb.record('doc/1')
  await rec.ready
  await direct.record('doc/1').set({ v: 1 })
  await waitFor(() => rec.get('v') === 1, 'a record change through the proxy')
  await sb.rpc.provide('echo/proxied', (a) => a).ready
  expect(await direct.rpc.call('echo/proxied', 42)).toBe(42)
  await direct.rpc.provide('echo/direct', (a) => a).ready
  expect(await sb.rpc.call('echo/direct', 'x')).toBe('x')
}

describe('behind nginx', () => {
  it('with WebSocket support: the default client uses WebSocket', async () => {
    const { nginx, url } = await behind('websocket')
    const sb = await defaultClient(nginx.url)
    expect(sb.transport).toBe('websocket')
    await worksEndToEnd(sb, url)
  })

  it('stripping Upgrade: a default client falls back to SSE and works', async () => {
    const { nginx, url } = await behind('no-upgrade')
    const sb = await defaultClient(nginx.url)
    expect(sb.transport).toBe('sse')
    await worksEndToEnd(sb, url)
  })

  it('buffering responses: a default client ends on long-polling and works', async () => {
    const { nginx, url } = await behind('buffering')
    const transports: TransportName[] = []
    const sb = res.client(nginx.url, { transports: undefined })
    sb.on('transport', (t) => transports.push(t))
    await sb.connect()
    expect(sb.transport).toBe('longpoll')
    expect(transports).toEqual(['longpoll'])
    await worksEndToEnd(sb, url)
  })
})
