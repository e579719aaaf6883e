import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createServer } from '@switchboard/server'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'
import WebSocket, { WebSocketServer } from 'ws'

const res = new Resources()
afterEach(() => res.cleanup())

describe('embedding into an existing Node http server', () => {
  it("attach() serves /ws on the app's port; handleRequest() serves Switchboard routes; the app keeps the rest", async () => {
    const sb = res.add(createServer({ log: { level: 'silent' } }), (s) => s.close())
    const app = http.createServer((req, resp) => {
      if (!sb.handleRequest(req, resp)) resp.end('my app')
    })
    sb.attach(app)
    // The app's own WebSocket endpoint on another path must be left alone.
    const other = new WebSocketServer({ noServer: true })
    app.on('upgrade', (req, socket, head) => {
      if (req.url === '/app-ws') other.handleUpgrade(req, socket, head, (ws) => ws.send('app'))
    })
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
    res.add(app, (a) => new Promise((r) => a.close(() => r(undefined))))
    await sb.ready
    const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}`

    expect(await (await fetch(`${url}/anything`)).text()).toBe('my app')
    expect((await fetch(`${url}/healthz`)).status).toBe(200)

    const [a, b] = [await res.connected(url), await res.connected(url)]
    const got: unknown[] = []
    await b.subscribe('embed/1', (d) => got.push(d)).ready
    await a.publish('embed/1', 'through the app server')
    await sb.publish('embed/1', 'from server.publish')
    await waitFor(() => got.length === 2, 'deliveries')
    expect(got).toEqual(['through the app server', 'from server.publish'])

    const appWs = new WebSocket(url.replace('http', 'ws') + '/app-ws')
    const first = await new Promise<string>((r) => appWs.once('message', (d) => r(d.toString())))
    expect(first).toBe('app')
    appWs.close()
    other.close()
  })
})
