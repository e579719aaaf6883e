/**
 * The cluster relay of the fallback transports (SPEC §5): behind a load balancer without sticky
 * sessions, a `/send`, `/poll` or event stream that reaches a node other than the session's
 * holder is relayed to the holder over the engine, so SSE and long-polling work as in one node.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MemoryHub, type ServerOptions, type SwitchboardConfigInput } from '@switchboard/server'
import type { Switchboard } from '@switchboard/client'
import { TcpProxy } from '../support/tcp-proxy.js'
import { assertRedisReachable, dropPrefix, redisUrl, uniquePrefix } from '../support/redis.js'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const prefix = uniquePrefix()
beforeAll(() => assertRedisReachable())
afterAll(() => dropPrefix(prefix))

type Cluster = () => { config?: SwitchboardConfigInput; options?: ServerOptions }

const engines: [string, Cluster][] = [
  [
    'memory hub',
    (() => {
      let hub: MemoryHub | undefined
      return () => {
        hub ??= new MemoryHub()
        return { options: { engine: hub.engine() } }
      }
    })(),
  ],
  ['Redis', () => ({ config: { engine: { type: 'redis', url: redisUrl(), prefix } } })],
]

async function twoNodesRoundRobin(node: Cluster) {
  const [a, b] = [node(), node()]
  const [na, nb] = await Promise.all([res.server(a.config, a.options), res.server(b.config, b.options)])
  const proxy = res.add(await new TcpProxy([na.port, nb.port]).start(), (p) => p.close())
  return { proxy, ports: [na.port, nb.port], direct: na.url }
}

/** Each node got connections from the client: requests reached the node not holding its session. */
function bothNodesReached(proxy: TcpProxy, ports: number[]): boolean {
  return ports.every((p) => (proxy.accepted.get(p) ?? 0) >= 1)
}

describe.each(engines)('fallback transports across two nodes (%s engine, round robin)', (_name, node) => {
  for (const transport of ['longpoll', 'sse'] as const) {
    it(`${transport}: publish/subscribe, RPC and record writes work whichever node each request reaches`, async () => {
      const { proxy, ports, direct } = await twoNodesRoundRobin(node)
      const sb: Switchboard = await res.connected(proxy.url, { transports: [transport] })
      expect(sb.transport).toBe(transport)
      const clientId = sb.clientId
      const other = await res.connected(direct, { transports: ['websocket'] })

      // Downstream and upstream, many times, so requests land on both nodes.
      const got: number[] = []
      await sb.subscribe('relay/feed', (d) => got.push(d as number)).ready
      const seen: number[] = []
      await other.subscribe('relay/back', (d) => seen.push(d as number)).ready
      for (let i = 1; i <= 10; i++) {
        await other.publish('relay/feed', i)
        await sb.publish('relay/back', i)
      }
      await waitFor(() => got.length === 10 && seen.length === 10, 'every publication both ways')
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])

      await sb.rpc.provide('relay/echo', async (args) => args).ready
      for (let i = 0; i < 5; i++) expect(await sb.rpc.call('relay/echo', { i })).toEqual({ i })

      const rec = sb.record('relay/rec')
      await rec.ready
      for (let i = 1; i <= 5; i++) await rec.set('n', i)
      await waitFor(() => (rec.data as { n?: number } | undefined)?.n === 5, 'the record’s last write')

      // One session throughout (no reconnect), and both nodes served its requests.
      expect(sb.clientId).toBe(clientId)
      expect(sb.state).toBe('connected')
      expect(bothNodesReached(proxy, ports)).toBe(true)
    })
  }
})

describe('the relay’s answers (memory hub, raw HTTP)', () => {
  async function twoNodes() {
    const hub = new MemoryHub()
    const [a, b] = await Promise.all([
      res.server({}, { engine: hub.engine() }),
      res.server({}, { engine: hub.engine() }),
    ])
    const connect = await fetch(`${a.url}/connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"transport":"longpoll"}',
    })
    expect(connect.status).toBe(200)
    const { session } = (await connect.json()) as { session: string }
    return { a, b, session }
  }
  const send = (url: string, session: string, body: unknown) =>
    fetch(`${url}/send`, {
      method: 'POST',
      headers: { 'x-switchboard-session': session, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })

  it('a relayed /send reaches the session and a relayed /poll brings its answer back', async () => {
    const { b, session } = await twoNodes()
    const hello = JSON.stringify({ t: 'hello', id: 1, v: 1 })
    expect((await send(b.url, session, { seq: 1, frames: [hello] })).status).toBe(204)
    const poll = await fetch(`${b.url}/poll`, { headers: { 'x-switchboard-session': session } })
    expect(poll.status).toBe(200)
    const body = (await poll.json()) as { seq: number; frames: { t: string }[] }
    expect(body.seq).toBe(1)
    expect(body.frames[0]?.t).toBe('welcome')
  })

  it('a session id whose node prefix was changed opens nothing', async () => {
    const { a, b, session } = await twoNodes()
    const secret = session.slice(session.lastIndexOf('.') + 1)
    const forged = `${b.server.nodeId}.${secret}`
    expect((await send(a.url, forged, { seq: 1, frames: [] })).status).toBe(404)
    expect((await send(b.url, forged, { seq: 1, frames: [] })).status).toBe(404)
  })

  it('a holder that is gone is answered 404 (session over), so the client reconnects', async () => {
    const { a, b, session } = await twoNodes()
    await a.server.close()
    const answer = await send(b.url, session, { seq: 1, frames: [] })
    expect(answer.status).toBe(404)
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
  })
})
