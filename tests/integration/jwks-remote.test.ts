import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { ConfigError, createServer, type SwitchboardConfigInput } from '@switchboard/server'
import type { SwitchboardError } from '@switchboard/client'
import { Resources } from '../support/server.js'

const res = new Resources()
afterEach(() => res.cleanup())

/** A signing key with its public JWK (kid `kid`). */
async function signingKey(kid: string, alg: 'RS256' | 'ES256' = 'ES256') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  const sign = (sub: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg, kid })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey as CryptoKey)
  return { jwk, sign }
}

/** An identity provider's JWKS endpoint: serves `keys`, counts the fetches. */
async function jwksEndpoint(keys: JWK[]) {
  const state = { keys, fetches: 0 }
  const http: Server = createHttpServer((_req, response) => {
    state.fetches++
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const close = () => {
    http.closeAllConnections()
    return new Promise<void>((resolve) => http.close(() => resolve()))
  }
  res.add(http, () => (http.listening ? close() : undefined))
  return { state, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/.well-known/jwks.json`, close }
}

const remote = (jwksUrl: string, more: object = {}): SwitchboardConfigInput => ({
  auth: { anonymous: false, jwt: { jwksUrl, ...more } },
})

describe('auth.jwt.jwksUrl: a remote key set, cached and refreshed', () => {
  it('verifies with the fetched keys and reuses them: one fetch for many connections', async () => {
    const k1 = await signingKey('k1')
    const idp = await jwksEndpoint([k1.jwk])
    const { url } = await res.server(remote(idp.url))
    const a = await res.connected(url, { token: await k1.sign('alice') })
    const b = await res.connected(url, { token: await k1.sign('bob') })
    expect([a.user?.id, b.user?.id]).toEqual(['alice', 'bob'])
    expect(idp.state.fetches).toBe(1)
  })

  it('a rotated key is fetched when a token names it; keys already fetched keep working while the endpoint is down', async () => {
    const k1 = await signingKey('k1')
    const k2 = await signingKey('k2', 'RS256')
    const idp = await jwksEndpoint([k1.jwk])
    const { url } = await res.server(remote(idp.url, { jwksCooldown: 0 }))
    await res.connected(url, { token: await k1.sign('alice') })

    idp.state.keys = [k1.jwk, k2.jwk] // the provider rotates in a new key
    const rotated = await res.connected(url, { token: await k2.sign('carol') })
    expect(rotated.user?.id).toBe('carol')
    expect(idp.state.fetches).toBe(2)

    await idp.close()
    const later = await res.connected(url, { token: await k2.sign('dave') })
    expect(later.user?.id).toBe('dave')
  })

  it('an unknown key within the cooldown is refused without a fetch; an unreachable set fails with a clear message', async () => {
    const k1 = await signingKey('k1')
    const stranger = await signingKey('k9')
    const idp = await jwksEndpoint([k1.jwk])
    const { url } = await res.server(remote(idp.url)) // cooldown 30 s by default
    await res.connected(url, { token: await k1.sign('alice') })
    const refused = res.client(url, { token: await stranger.sign('mallory') })
    const errors: SwitchboardError[] = []
    refused.on('error', (e) => errors.push(e))
    await expect(refused.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED', message: /no configured key/ })
    expect(idp.state.fetches).toBe(1)

    await idp.close()
    const { url: other } = await res.server(remote(idp.url))
    const late = res.client(other, { token: await k1.sign('alice') })
    late.on('error', () => {})
    await expect(late.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED', message: /could not be fetched/ })
  })

  it('config: one key source, an http(s) URL, https in production unless on this machine', async () => {
    const start = (input: SwitchboardConfigInput) => () =>
      res.add(createServer({ storage: { type: 'memory' }, log: { level: 'silent' }, ...input }), (s) => s.close())
    expect(start(remote('not a url'))).toThrow(/auth\.jwt\.jwksUrl: not a URL/)
    expect(start(remote('ftp://idp.example/jwks'))).toThrow(/must be an https URL/)
    expect(start({ auth: { jwt: { jwksUrl: 'https://idp.example/jwks', secret: 'x'.repeat(40) } } })).toThrow(
      /set only one of secret, jwksUrl/,
    )
    const production = (jwksUrl: string) => start({ mode: 'production', auth: { anonymous: false, jwt: { jwksUrl } } })
    expect(production('http://idp.example/jwks')).toThrow(ConfigError)
    expect(production('http://idp.example/jwks')).toThrow(/needs an https URL/)
    expect(production('https://idp.example/jwks')).not.toThrow()
    expect(production('http://127.0.0.1:9/jwks')).not.toThrow()
  })
})
