// /healthz and /readyz (SPEC: health endpoints): ready only while running, so a load balancer
// sends nobody to a server that is starting or draining.
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServer } from '@switchboard/server'
import { afterEach, describe, expect, it } from 'vitest'
import { scratchSchema } from '../support/postgres.js'
import { Resources } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'

const res = new Resources()
afterEach(() => res.cleanup())

async function probe(url: string) {
  const r = await fetch(url)
  return { status: r.status, body: (await r.json()) as unknown }
}

describe('health endpoints', () => {
  it('a running server is healthy and ready; once closed, its own HTTP server is gone', async () => {
    const { url, server } = await res.server()
    expect(await probe(`${url}/healthz`)).toEqual({ status: 200, body: { status: 'running' } })
    expect(await probe(`${url}/readyz`)).toEqual({ status: 200, body: { status: 'running' } })
    await server.close()
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  })

  it('/readyz is 503 while storage is still opening, 200 when running, 503 while draining and after close', async () => {
    // PostgreSQL behind a proxy that holds its bytes: the store cannot open until it lets go.
    const schema = res.add(await scratchSchema(), (s) => s.drop())
    const database = new URL(schema.url)
    const proxy = res.add(await new TcpProxy(Number(database.port || 5432)).start(), (p) => p.close())
    database.port = String(proxy.port)
    proxy.hold()
    const server = createServer({
      storage: { type: 'postgres', url: database.toString() },
      log: { level: 'silent' },
    })
    res.add(server, (s) => s.close())
    // Embedded in the app's HTTP server, which answers while Switchboard starts and after it stopped.
    const http = createHttpServer((req, r) => {
      if (!server.handleRequest(req, r)) r.writeHead(404).end()
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    res.add(http, (h) => new Promise((resolve) => h.close(resolve)))
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`

    expect(await probe(`${url}/readyz`)).toEqual({ status: 503, body: { status: 'starting' } })
    expect(await probe(`${url}/healthz`)).toEqual({ status: 200, body: { status: 'starting' } })
    proxy.hold(false)
    await server.ready
    expect(await probe(`${url}/readyz`)).toEqual({ status: 200, body: { status: 'running' } })

    // close() lets an accepted write commit before it closes the store; the database holds it.
    proxy.hold()
    const write = server.records.set('todo/1', { done: false })
    const closed = server.close()
    expect(await probe(`${url}/readyz`)).toEqual({ status: 503, body: { status: 'draining' } })
    proxy.hold(false)
    expect(await write).toEqual({ version: 1 })
    await closed
    expect(await probe(`${url}/readyz`)).toEqual({ status: 503, body: { status: 'stopped' } })
    expect(await probe(`${url}/healthz`)).toEqual({ status: 503, body: { status: 'stopped' } })
  })
})
