import { afterEach, describe, expect, it } from 'vitest'
import { MemoryHub, type SwitchboardConfigInput } from '@switchboard/server'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

const channels: SwitchboardConfigInput['channels'] = { 'idem/*': { history: { size: 100, ttl: '10m' } } }

describe('idempotent publish', () => {
  it('a publish whose ack was lost with the connection is sent again after the reconnect and delivered once', async () => {
    const { url, port } = await res.server({ channels })
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const publisher = await res.connected(proxy.url)
    const watcher = await res.connected(url)
    const got: unknown[] = []
    await watcher.subscribe('idem/x', (d) => got.push(d)).ready

    proxy.stall() // the server's answers stop reaching the publisher; its frames still arrive
    const ack = publisher.publish('idem/x', 'once')
    await waitFor(() => got.length === 1, 'the publication to be delivered') // applied: only the ack is missing
    proxy.cut() // the connection dies with the ack in it: the outcome is unknown to the client
    proxy.stall(false)

    await expect(ack).resolves.toMatchObject({ offset: 1 }) // resent, and answered with the first one's position
    await publisher.publish('idem/x', 'after')
    await waitFor(() => got.includes('after'), 'the next publication')
    expect(got).toEqual(['once', 'after'])
  })

  it('a resend through another node (the first one gone) is delivered once too', async () => {
    const hub = new MemoryHub()
    const a = await res.server({ channels }, { engine: hub.engine() })
    const b = await res.server({ channels }, { engine: hub.engine() })
    const proxy = res.add(await new TcpProxy(a.port).start(), (p) => p.close())
    const publisher = await res.connected([proxy.url, b.url])
    const watcher = await res.connected(b.url)
    const got: unknown[] = []
    await watcher.subscribe('idem/y', (d) => got.push(d)).ready

    proxy.stall()
    const ack = publisher.publish('idem/y', 'once')
    await waitFor(() => got.length === 1, 'the publication to be delivered')
    proxy.down() // node a unreachable: the client reconnects to b and resends there
    await expect(ack).resolves.toMatchObject({ offset: 1 })
    await publisher.publish('idem/y', 'after')
    await waitFor(() => got.includes('after'), 'the next publication')
    expect(got).toEqual(['once', 'after'])
    expect(b.server.connectionCount()).toBe(2)
  })

  it('a caller-supplied id publishes once, per user; ids are checked', async () => {
    const { url, server } = await res.server({ channels })
    const sb = await res.connected(url)
    const got: unknown[] = []
    await sb.subscribe('idem/z', (d) => got.push(d)).ready
    const first = await sb.publish('idem/z', 'order 1', { id: 'order-1' })
    expect(await sb.publish('idem/z', 'order 1 again', { id: 'order-1' })).toEqual(first)
    // The embedding app has ids of its own, apart from every user's.
    const fromServer = await server.publish('idem/z', 'server', { id: 'order-1' })
    expect(await server.publish('idem/z', 'server again', { id: 'order-1' })).toEqual(fromServer)
    await sb.publish('idem/z', 'end')
    await waitFor(() => got.includes('end'), 'the last publication')
    expect(got).toEqual(['order 1', 'server', 'end'])
    await expect(sb.publish('idem/z', 'x', { id: '' })).rejects.toMatchObject({ code: 'INVALID_MESSAGE' })
    await expect(server.publish('idem/z', 'x', { id: 'x'.repeat(65) })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    })
  })

  it('POST /api/publish with an id: a retried request gets the first answer and publishes once', async () => {
    const { url, server } = await res.server({ channels })
    const post = (body: unknown) =>
      fetch(`${url}/api/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const first = await post({ channel: 'idem/h', data: 1, id: 'req-1' })
    const retry = await post({ channel: 'idem/h', data: 1, id: 'req-1' })
    expect(first.status).toBe(200)
    expect(await retry.json()).toEqual(await first.json())
    expect((await server.history('idem/h')).publications).toHaveLength(1)
    expect((await post({ channel: 'idem/h', data: 1, id: 7 })).status).toBe(400)
    expect((await post({ channel: 'idem/h', data: 1, extra: true })).status).toBe(400)
  })
})
