import { afterEach, describe, expect, it } from 'vitest'
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
})
