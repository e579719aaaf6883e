// GET /sse (SPEC §3 HTTP, §4): channels as Server-Sent Events for plain EventSource and curl,
// with Last-Event-ID resuming every channel of the stream.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventSource } from 'eventsource'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { hsToken, SECRET } from '../support/jwt.js'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const dir = mkdtempSync(join(tmpdir(), 'sb-sse-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const HISTORY: SwitchboardConfigInput = { channels: { 'chat/**': { history: { size: 100, ttl: '10m' } } } }

interface SseEvent {
  id?: string
  event?: string
  data?: string
  comment?: string
}

/** A raw SSE reader over fetch: every event and comment as it arrives. */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController()
  const r = await fetch(url, { headers, signal: controller.signal })
  const events: SseEvent[] = []
  let ended = false
  const done = (async () => {
    if (!r.body || !r.headers.get('content-type')?.startsWith('text/event-stream')) return
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of r.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const ev: SseEvent = {}
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) ev.comment = line.slice(1).trim()
            const m = /^(id|event|data): ?(.*)$/.exec(line)
            if (m) ev[m[1] as 'id' | 'event' | 'data'] = m[2]
          }
          events.push(ev)
        }
      }
    } catch {
      // aborted
    } finally {
      ended = true
    }
  })()
  res.add(controller, (c) => c.abort())
  const pubs = () => events.filter((e) => e.event && !e.event.startsWith('$'))
  return {
    status: r.status,
    headers: r.headers,
    json: async () => (await r.json()) as { error: { code: string; message: string } },
    events,
    pubs,
    ended: () => ended,
    done,
    close: () => controller.abort(),
  }
}

describe('GET /sse', () => {
  it('streams the publications of several channels with ids, event names and JSON data', async () => {
    const { url } = await res.server(HISTORY)
    const stream = await openStream(`${url}/sse?channel=chat/a&channel=chat/b`)
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(stream.headers.get('cache-control')).toContain('no-cache')
    const sb = await res.connected(url)
    await sb.publish('chat/a', { text: 'one' })
    await sb.publish('chat/b', { text: 'two' })
    await sb.publish('chat/c', { text: 'not subscribed' })
    await sb.publish('chat/a', { text: 'three' })
    await waitFor(() => stream.pubs().length >= 3, 'three events')
    expect(stream.pubs().map((e) => [e.event, JSON.parse(e.data as string)])).toEqual([
      ['chat/a', { text: 'one' }],
      ['chat/b', { text: 'two' }],
      ['chat/a', { text: 'three' }],
    ])
    // Every event carries an id; ids differ as the positions move.
    const ids = stream.pubs().map((e) => e.id)
    expect(new Set(ids).size).toBe(3)
  })

  it('resumes every channel from Last-Event-ID: what was missed arrives once, in order', async () => {
    const { url } = await res.server(HISTORY)
    const sb = await res.connected(url)
    const first = await openStream(`${url}/sse?channel=chat/a&channel=chat/b`)
    await sb.publish('chat/a', { n: 1 })
    await sb.publish('chat/b', { n: 2 })
    await waitFor(() => first.pubs().length === 2, 'first two')
    const lastId = first.pubs()[1]?.id as string
    first.close()
    await sb.publish('chat/a', { n: 3 })
    await sb.publish('chat/b', { n: 4 })
    await sb.publish('chat/a', { n: 5 })

    const again = await openStream(`${url}/sse?channel=chat/a&channel=chat/b`, { 'last-event-id': lastId })
    expect(again.status).toBe(200)
    await sb.publish('chat/b', { n: 6 })
    await waitFor(() => again.pubs().length >= 4, 'missed and live')
    // Recovery replays channel by channel (chat/a's, then chat/b's), then what is live.
    expect(again.pubs().map((e) => JSON.parse(e.data as string).n)).toEqual([3, 5, 4, 6])
    const recovered = again.events.filter((e) => e.event === '$recovered').map((e) => JSON.parse(e.data as string))
    expect(recovered).toEqual(
      expect.arrayContaining([
        { channel: 'chat/a', missed: 2, complete: true },
        { channel: 'chat/b', missed: 1, complete: true },
      ]),
    )
    // The same through ?lastEventId= (for clients that cannot set headers).
    const viaQuery = await openStream(`${url}/sse?channel=chat/a&lastEventId=${encodeURIComponent(lastId)}`)
    await waitFor(() => viaQuery.pubs().length >= 2, 'recovered via query')
    expect(viaQuery.pubs().map((e) => JSON.parse(e.data as string).n)).toEqual([3, 5])
  })

  it('resumes a backlog larger than maxBufferedBytes in pages: each publication once, in order, then live', async () => {
    const { url, server } = await res.server({ ...HISTORY, limits: { maxBufferedBytes: '64KiB' } })
    const first = await openStream(`${url}/sse?channel=chat/a&channel=chat/b`)
    await server.publish('chat/a', { n: 0 })
    await waitFor(() => first.pubs().length === 1, 'the first event')
    const lastId = first.pubs()[0]?.id as string
    first.close()
    const pad = 'x'.repeat(2048)
    for (let n = 1; n <= 100; n++) await server.publish(n % 2 ? 'chat/a' : 'chat/b', { n, pad }) // ~200 KiB
    const again = await openStream(`${url}/sse?channel=chat/a&channel=chat/b`, { 'last-event-id': lastId })
    expect(again.status).toBe(200)
    await waitFor(() => again.events.filter((e) => e.event === '$recovered').length === 2, 'both recoveries')
    await server.publish('chat/b', { n: 101 })
    await waitFor(() => again.pubs().length === 101, 'missed and live')
    const ns = (channel: string) =>
      again
        .pubs()
        .filter((e) => e.event === channel)
        .map((e) => JSON.parse(e.data as string).n as number)
    expect(ns('chat/a')).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1))
    expect(ns('chat/b')).toEqual([...Array.from({ length: 50 }, (_, i) => 2 * i + 2), 101])
    const recovered = again.events.filter((e) => e.event === '$recovered').map((e) => JSON.parse(e.data as string))
    expect(recovered).toEqual(
      expect.arrayContaining([
        { channel: 'chat/a', missed: 50, complete: true },
        { channel: 'chat/b', missed: 50, complete: true },
      ]),
    )
    expect(again.ended()).toBe(false)
  })

  it('works with EventSource, which reconnects with Last-Event-ID after the connection drops', async () => {
    const { url, port } = await res.server(HISTORY)
    const proxy = res.add(await new TcpProxy(port).start(), (p) => p.close())
    const sb = await res.connected(url)
    const es = res.add(new EventSource(`${proxy.url}/sse?channel=chat/room`), (e) => e.close())
    const got: number[] = []
    es.addEventListener('chat/room', (e) => got.push(JSON.parse((e as MessageEvent).data).n))
    await waitFor(() => es.readyState === EventSource.OPEN, 'EventSource open')
    await sb.publish('chat/room', { n: 1 })
    await waitFor(() => got.length === 1, 'first event')
    proxy.cut()
    await sb.publish('chat/room', { n: 2 })
    await sb.publish('chat/room', { n: 3 })
    await waitFor(() => got.length === 3, 'missed events after the reconnect', 20_000)
    await sb.publish('chat/room', { n: 4 })
    await waitFor(() => got.length === 4, 'live again')
    expect(got).toEqual([1, 2, 3, 4])
  })

  it('applies auth and rules before the stream opens: 401 / 403 with a JSON error', async () => {
    const file = join(dir, 'rules.yaml')
    writeFileSync(file, "channels:\n  'news/*': { subscribe: 'user != null' }\n  'staff/*': { subscribe: 'false' }\n")
    const { url } = await res.server({
      ...HISTORY,
      auth: { anonymous: false, jwt: { secret: SECRET } },
      permissions: file,
    })
    const anon = await openStream(`${url}/sse?channel=news/a`)
    expect(anon.status).toBe(401)
    expect((await anon.json()).error.code).toBe('AUTH_FAILED')
    const token = await hsToken('alice')
    const denied = await openStream(`${url}/sse?channel=news/a&channel=staff/x&token=${token}`)
    expect(denied.status).toBe(403)
    expect((await denied.json()).error.code).toBe('PERMISSION_DENIED')
    const ok = await openStream(`${url}/sse?channel=news/a`, { authorization: `Bearer ${token}` })
    expect(ok.status).toBe(200)
  })

  it('rejects bad requests', async () => {
    const { url } = await res.server({ limits: { maxSubscriptionsPerConnection: 2 } })
    const cases: [string, Record<string, string>, number, string][] = [
      ['/sse', {}, 400, 'INVALID_MESSAGE'],
      ['/sse?channel=a&channel=b&channel=c', {}, 429, 'TOO_MANY_SUBSCRIPTIONS'],
      ['/sse?channel=a', { 'last-event-id': 'not-ours!' }, 400, 'INVALID_MESSAGE'],
      ['/sse?channel=bad%20name', {}, 400, 'INVALID_NAME'],
    ]
    for (const [path, headers, status, code] of cases) {
      const s = await openStream(`${url}${path}`, headers)
      expect({ path, status: s.status, code: (await s.json()).error.code }).toEqual({ path, status, code })
    }
    const post = await fetch(`${url}/sse?channel=a`, { method: 'POST' })
    expect(post.status).toBe(405)
  })

  it('stays open across heartbeats (the peer never sends), and ends with $closed on shutdown', async () => {
    const { url, server } = await res.server({ server: { heartbeat: { intervalMs: 100, timeoutMs: 400 } } })
    const stream = await openStream(`${url}/sse?channel=tick`)
    // Eight pings span twice the heartbeat timeout: a session that waited for the peer would be closed.
    await waitFor(() => stream.events.filter((e) => e.comment === 'ping').length >= 8, 'pings', 10_000)
    expect(stream.ended()).toBe(false)
    await server.publish('tick', { alive: true })
    await waitFor(() => stream.pubs().length === 1, 'a publication after the pings')
    await server.close()
    await waitFor(() => stream.ended(), 'stream ended')
    const closed = stream.events.find((e) => e.event === '$closed')
    expect(JSON.parse(closed?.data as string)).toMatchObject({ code: 4000 })
  })
})
