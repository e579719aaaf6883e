/**
 * How Switchboard meets HTTP: attached to an app's own server (Express, Fastify, node:https)
 * under a path prefix, the browser bundle, client addresses behind trusted proxies, and a
 * close() that lets the embedder's shutdown code run.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gunzipSync } from 'node:zlib'
import express from 'express'
import Fastify from 'fastify'
import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, type SwitchboardServer } from '@switchboard/server'
import { Switchboard } from '@switchboard/client'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const root = fileURLToPath(new URL('../..', import.meta.url))

function embedded(): SwitchboardServer {
  return res.add(createServer({ storage: { type: 'memory' }, log: { level: 'silent' } }), (s) => s.close())
}

function listening(server: http.Server | https.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      res.add(server, (s) => new Promise((r) => s.close(() => r(undefined))))
      resolve(String((server.address() as AddressInfo).port))
    })
  })
}

/** Publishes through one client and receives through another: the realtime path works end to end. */
async function roundTrip(a: Switchboard, b: Switchboard, channel: string): Promise<void> {
  const got: unknown[] = []
  await b.subscribe(channel, (d) => got.push(d)).ready
  await a.publish(channel, { hello: channel })
  await waitFor(() => got.length === 1, `a delivery on ${channel}`)
  expect(got).toEqual([{ hello: channel }])
}

describe('attach(httpServer, { path })', () => {
  it('takes over every Switchboard route of an Express app under a prefix, and leaves the app the rest', async () => {
    const sb = embedded()
    const app = express()
    app.get('/hello', (_req, resp) => void resp.send('from express'))
    app.use((_req, resp) => void resp.status(404).send('express 404'))
    const server = http.createServer(app)
    sb.attach(server, { path: '/realtime' })
    const port = await listening(server)
    await sb.ready
    const base = `http://127.0.0.1:${port}`

    expect(await (await fetch(`${base}/hello`)).text()).toBe('from express')
    // Switchboard's routes answer under the prefix, before Express sees them...
    expect(await (await fetch(`${base}/realtime/healthz`)).json()).toEqual({ status: 'running' })
    expect((await fetch(`${base}/realtime/readyz`)).status).toBe(200)
    expect((await fetch(`${base}/realtime/metrics`)).status).toBe(200)
    const published = await fetch(`${base}/realtime/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'x/1', data: 1 }),
    })
    expect(published.status).toBe(200)
    // ...and not outside it.
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('express 404')

    const [a, b] = [await res.connected(`${base}/realtime`), await res.connected(`${base}/realtime`)]
    await roundTrip(a, b, 'express/1')
    // An upgrade outside the prefix is not ours.
    const stray = new WebSocket(`ws://127.0.0.1:${port}/ws`)
    const outcome = await new Promise<string>((resolve) => {
      stray.once('open', () => resolve('open'))
      stray.once('error', () => resolve('refused'))
      stray.once('close', () => resolve('refused'))
    })
    expect(outcome).toBe('refused')
  })

  it('works with Fastify', async () => {
    const sb = embedded()
    const app = Fastify()
    app.get('/hello', async () => 'from fastify')
    sb.attach(app.server, { path: '/sb' })
    await app.listen({ port: 0, host: '127.0.0.1' })
    res.add(app, (a) => a.close())
    await sb.ready
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    expect(await (await fetch(`${base}/hello`)).text()).toBe('from fastify')
    expect((await fetch(`${base}/sb/readyz`)).status).toBe(200)
    expect((await fetch(`${base}/nothing`)).status).toBe(404)
    const [a, b] = [await res.connected(`${base}/sb`), await res.connected(`${base}/sb`)]
    await roundTrip(a, b, 'fastify/1')
  })

  it('works with node:https (wss:// and the HTTP API over TLS)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-tls-'))
    res.add(dir, (d) => rmSync(d, { recursive: true, force: true }))
    const key = path.join(dir, 'key.pem')
    const cert = path.join(dir, 'cert.pem')
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' }) // prettier-ignore
    const ca = readFileSync(cert)
    const sb = embedded()
    const server = https.createServer({ key: readFileSync(key), cert: ca }, (_req, resp) => resp.end('tls app'))
    sb.attach(server)
    const port = await listening(server)
    await sb.ready
    const base = `https://127.0.0.1:${port}`
    const get = (p: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        https
          .get(`${base}${p}`, { ca }, (r) => {
            let body = ''
            r.on('data', (c: Buffer) => (body += c.toString()))
            r.on('end', () => resolve({ status: r.statusCode ?? 0, body }))
          })
          .on('error', reject)
      })
    expect(await get('/healthz')).toEqual({ status: 200, body: JSON.stringify({ status: 'running' }) })
    expect((await get('/elsewhere')).body).toBe('tls app')
    // The Node client over wss://, trusting the test's own certificate.
    class TrustingWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { ca })
      }
    }
    const client = (): Promise<Switchboard> =>
      res.connected(base, { WebSocket: TrustingWebSocket as unknown as typeof globalThis.WebSocket })
    const [a, b] = [await client(), await client()]
    await roundTrip(a, b, 'tls/1')
  })
})

describe('GET /switchboard.min.js', () => {
  it('serves the browser bundle with an ETag (304 when unchanged) and gzip', async () => {
    const { url } = await res.server()
    const onDisk = readFileSync(path.join(root, 'packages/client/dist/browser/switchboard.min.js'))
    const plain = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http
        .get(`${url}/switchboard.min.js`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
          const chunks: Buffer[] = []
          r.on('data', (c: Buffer) => chunks.push(c))
          r.on('end', () => resolve({ headers: r.headers, body: Buffer.concat(chunks) }))
        })
        .on('error', reject)
    })
    expect(plain.headers['content-type']).toMatch(/javascript/)
    expect(plain.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(plain.body).equals(onDisk)).toBe(true)
    const etag = plain.headers.etag
    expect(etag).toMatch(/^".+"$/)
    const again = await fetch(`${url}/switchboard.min.js`, { headers: { 'if-none-match': String(etag) } })
    expect(again.status).toBe(304)
    expect(plain.headers.sourcemap).toBe('switchboard.min.js.map')
    const map = await fetch(`${url}/switchboard.min.js.map`)
    expect(map.status).toBe(200)
    expect(((await map.json()) as { version: number }).version).toBe(3)
  })
})

describe('client addresses behind proxies (server.trustProxy)', () => {
  it('counts the forwarded address of a trusted proxy, never the proxy itself', async () => {
    // Loopback is trusted by default: the test plays a proxy on 127.0.0.1.
    const { url, server } = await res.server({ limits: { maxConnectionsPerIp: 2 } })
    const via = (client: string) => ({ headers: { 'x-forwarded-for': client } })
    for (let i = 0; i < 2; i++) res.add(await RawClient.open(url, via('203.0.113.5')), (c) => c.close())
    await expect(RawClient.open(url, via('203.0.113.5'))).rejects.toThrow(
      /4006 too many connections from 203\.0\.113\.5/,
    )
    // Another client behind the same proxy is not affected by the first one's limit.
    for (let i = 0; i < 2; i++) res.add(await RawClient.open(url, via('198.51.100.7')), (c) => c.close())
    // A forged entry left of the client's real address is not believed.
    await expect(RawClient.open(url, via('10.9.9.9, 203.0.113.5'))).rejects.toThrow(/203\.0\.113\.5/)
    expect(server.connectionCount()).toBe(4)
  })

  it('ignores X-Forwarded-For from a peer it does not trust', async () => {
    const { url } = await res.server({ server: { trustProxy: [] }, limits: { maxConnectionsPerIp: 1 } })
    res.add(await RawClient.open(url, { headers: { 'x-forwarded-for': '203.0.113.1' } }), (c) => c.close())
    await expect(RawClient.open(url, { headers: { 'x-forwarded-for': '203.0.113.2' } })).rejects.toThrow(
      /too many connections from 127\.0\.0\.1/,
    )
  })

  it('rejects a trustProxy entry that is not an address, CIDR block or preset', () => {
    expect(() => createServer({ server: { trustProxy: ['10.0.0.0/99'] }, log: { level: 'silent' } })).toThrow(
      /server\.trustProxy\.0/,
    )
  })
})

describe('close()', () => {
  it('settles and lets the code after it run when nothing else keeps the process alive', async () => {
    // The defaults a first script gets (SQLite in ./switchboard-data), from the built package.
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-close-'))
    res.add(dir, (d) => rmSync(d, { recursive: true, force: true }))
    const entry = pathToFileURL(path.join(root, 'packages/server/dist/index.js')).href
    const script = `
      import { createServer } from '${entry}'
      const server = createServer({ log: { level: 'silent' } })
      await server.listen({ port: 0, host: '127.0.0.1' })
      await server.close()
      console.log('after close: ' + server.state)
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: dir })
    res.add(child, (c) => c.kill('SIGKILL'))
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(out).toContain('after close: stopped')
    expect(code).toBe(0)
  })
})
