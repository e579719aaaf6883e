import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, type SwitchboardConfigInput } from '@switchboard/server'
import { SECRET } from '../support/jwt.js'
import { Resources } from '../support/server.js'

const res = new Resources()
afterEach(() => res.cleanup())

const production = { mode: 'production' as const, auth: { anonymous: false, jwt: { secret: SECRET } } }

describe('the built-in pages (demo at /, admin at /admin)', () => {
  it('are served in development mode by default', async () => {
    const { url } = await res.server()
    for (const path of ['/', '/admin']) {
      const r = await fetch(`${url}${path}`)
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(r.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'/)
      expect(r.headers.get('x-frame-options')).toBe('DENY')
    }
  })

  it('are not served in production mode unless enabled', async () => {
    const off = await res.server(production)
    expect((await fetch(`${off.url}/`)).status).toBe(404)
    expect((await fetch(`${off.url}/admin`)).status).toBe(404)
    expect((await fetch(`${off.url}/assets/x.js`)).status).toBe(404)

    const on = await res.server({ ...production, demo: { enabled: true } })
    expect((await fetch(`${on.url}/`)).status).toBe(200)
    expect((await fetch(`${on.url}/admin`)).status).toBe(404)
  })

  it('can be turned off in development mode', async () => {
    const { url } = await res.server({ demo: { enabled: false }, admin: { enabled: false } })
    expect((await fetch(`${url}/`)).status).toBe(404)
    expect((await fetch(`${url}/admin`)).status).toBe(404)
  })

  it("leave an embedding app's own / and /admin alone unless enabled explicitly", async () => {
    const embedded = async (config: SwitchboardConfigInput) => {
      const server = res.add(createServer({ ...config, storage: { type: 'memory' }, log: { level: 'silent' } }), (s) =>
        s.close(),
      )
      await server.ready
      const app = createHttpServer((_req, r) => r.end('the app'))
      server.attach(app)
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve))
      res.add(app, (a) => new Promise((resolve) => a.close(resolve)))
      return `http://127.0.0.1:${(app.address() as AddressInfo).port}`
    }
    const plain = await embedded({})
    for (const path of ['/', '/admin', '/assets/x.js'])
      expect(await (await fetch(`${plain}${path}`)).text()).toBe('the app')
    expect((await fetch(`${plain}/healthz`)).status).toBe(200)

    const withDemo = await embedded({ demo: { enabled: true } })
    expect((await fetch(`${withDemo}/`)).headers.get('content-security-policy')).toMatch(/^default-src 'none'/)
    expect(await (await fetch(`${withDemo}/admin`)).text()).toBe('the app')
  })
})
