import { afterEach, describe, expect, it } from 'vitest'
import type { Switchboard } from '@switchboard/client'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

describe('channels', () => {
  it('delivers a publication to every subscriber, with an { offset } ack', async () => {
    const { url } = await res.server()
    const clients = await Promise.all(Array.from({ length: 8 }, () => res.connected(url)))
    const got: unknown[][] = clients.map(() => [])
    await Promise.all(clients.map((c, i) => c.subscribe('chat/lobby', (d) => got[i]!.push(d)).ready))
    const ack = await clients[0]!.publish('chat/lobby', { text: 'hi' })
    expect(ack.offset).toBe(1)
    expect(typeof ack.epoch).toBe('string')
    await waitFor(() => got.every((g) => g.length === 1), 'every client to receive')
    expect(got.every((g) => (g[0] as { text: string }).text === 'hi')).toBe(true)
  })

  it('passes channel, offset, epoch and publisher to the handler', async () => {
    const { url } = await res.server()
    const [a, b] = [await res.connected(url), await res.connected(url)]
    const infos: unknown[] = []
    await b.subscribe('news/1', (_d, info) => infos.push(info)).ready
    const ack = await a.publish('news/1', 1)
    await waitFor(() => infos.length === 1, 'delivery')
    expect(infos[0]).toEqual({
      channel: 'news/1',
      offset: 1,
      epoch: ack.epoch,
      publisher: { user: null, client: a.clientId },
    })
  })

  it('gives every subscriber the same order under concurrent publishers', async () => {
    const { url } = await res.server()
    const publishers = await Promise.all(Array.from({ length: 4 }, () => res.connected(url)))
    const subscribers = await Promise.all(Array.from({ length: 4 }, () => res.connected(url)))
    const seen: number[][] = subscribers.map(() => [])
    await Promise.all(subscribers.map((s, i) => s.subscribe('race/1', (_d, info) => seen[i]!.push(info.offset)).ready))
    const perPublisher = 50
    await Promise.all(
      publishers.map((p, pi) =>
        Promise.all(Array.from({ length: perPublisher }, (_, k) => p.publish('race/1', { pi, k }))),
      ),
    )
    const total = publishers.length * perPublisher
    await waitFor(() => seen.every((s) => s.length === total), 'all deliveries')
    const expected = Array.from({ length: total }, (_, i) => i + 1)
    for (const s of seen) expect(s).toEqual(expected)
  })

  it("keeps each publisher's own messages in the order it sent them", async () => {
    const { url } = await res.server()
    const [pub, sub] = [await res.connected(url), await res.connected(url)]
    const got: number[] = []
    await sub.subscribe('seq/1', (d) => got.push(d as number)).ready
    await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publish('seq/1', i)))
    await waitFor(() => got.length === 200, '200 deliveries')
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i))
  })

  it('pattern subscriptions: * matches one segment, ** one or more; delivered once per publication', async () => {
    const { url } = await res.server()
    const [pub, sub] = [await res.connected(url), await res.connected(url)]
    const one: string[] = []
    const many: string[] = []
    const exact: string[] = []
    await sub.subscribe('chat/*', (_d, i) => one.push(i.channel)).ready
    await sub.subscribe('chat/**', (_d, i) => many.push(i.channel)).ready
    await sub.subscribe('chat/a', (_d, i) => exact.push(i.channel)).ready
    for (const ch of ['chat/a', 'chat/b', 'chat/a/b', 'other/a']) await pub.publish(ch, ch)
    await waitFor(() => many.length === 3, 'pattern deliveries')
    await pub.publish('chat/z', 'end')
    await waitFor(() => one.includes('chat/z'), 'the last delivery')
    expect(one).toEqual(['chat/a', 'chat/b', 'chat/z'])
    expect(many).toEqual(['chat/a', 'chat/b', 'chat/a/b', 'chat/z'])
    expect(exact).toEqual(['chat/a'])
  })

  it('unsubscribe stops delivery; several handles on one channel share one subscription', async () => {
    const { url } = await res.server()
    const [pub, sub] = [await res.connected(url), await res.connected(url)]
    const a: unknown[] = []
    const b: unknown[] = []
    const sa = sub.subscribe('room/1', (d) => a.push(d))
    const sb = sub.subscribe('room/1', (d) => b.push(d))
    await Promise.all([sa.ready, sb.ready])
    await pub.publish('room/1', 1)
    await waitFor(() => a.length === 1 && b.length === 1, 'both handles')
    sa.unsubscribe()
    await pub.publish('room/1', 2)
    await waitFor(() => b.length === 2, 'second delivery')
    sb.unsubscribe()
    await pub.publish('room/1', 3)
    // A marker on another channel proves the third publication had its chance to arrive.
    const marker: unknown[] = []
    await sub.subscribe('room/marker', (d) => marker.push(d)).ready
    await pub.publish('room/marker', 'm')
    await waitFor(() => marker.length === 1, 'marker')
    expect(a).toEqual([1])
    expect(b).toEqual([1, 2])
  })

  it('history: newest `limit` without since, exclusive since, oldest first', async () => {
    const { url } = await res.server({ channels: { 'hist/**': { history: { size: 5, ttl: '10m' } } } })
    const sb = await res.connected(url)
    for (let i = 1; i <= 8; i++) await sb.publish('hist/a', { i })
    const all = await sb.history('hist/a')
    expect(all.offset).toBe(8)
    expect(all.publications.map((p) => p.data)).toEqual([4, 5, 6, 7, 8].map((i) => ({ i })))
    expect(all.publications.map((p) => p.offset)).toEqual([4, 5, 6, 7, 8])
    const since = await sb.history('hist/a', { since: { offset: 6, epoch: all.epoch }, limit: 100 })
    expect(since.publications.map((p) => p.offset)).toEqual([7, 8])
    const limited = await sb.history('hist/a', { limit: 2 })
    expect(limited.publications.map((p) => p.offset)).toEqual([7, 8])
  })

  it('channels without history configured keep none, but offsets still advance', async () => {
    const { url } = await res.server()
    const sb = await res.connected(url)
    await sb.publish('plain/a', 1)
    const ack = await sb.publish('plain/a', 2)
    expect(ack.offset).toBe(2)
    const h = await sb.history('plain/a')
    expect(h.publications).toEqual([])
    expect(h.offset).toBe(2)
  })

  it('server.publish reaches client subscribers', async () => {
    const { url, server } = await res.server()
    const sb = await res.connected(url)
    const got: unknown[] = []
    await sb.subscribe('feed/x', (d) => got.push(d)).ready
    const pos = await server.publish('feed/x', { from: 'server' })
    expect(pos.offset).toBe(1)
    await waitFor(() => got.length === 1, 'delivery')
    expect(got[0]).toEqual({ from: 'server' })
  })

  it('rejects invalid names on the client and the server', async () => {
    const { url, server } = await res.server()
    const sb: Switchboard = await res.connected(url)
    await expect(sb.publish('bad name', 1)).rejects.toMatchObject({ code: 'INVALID_NAME' })
    await expect(sb.subscribe('a//b', () => {}).ready).rejects.toMatchObject({ code: 'INVALID_NAME' })
    await expect(server.publish('x'.repeat(256), 1)).rejects.toMatchObject({ code: 'INVALID_NAME' })
  })
})
