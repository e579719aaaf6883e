import { describe, expect, it } from 'vitest'
import { readEnvOverrides } from './env.js'

const read = (env: Record<string, string>) => readEnvOverrides(env)
const values = (env: Record<string, string>) => {
  const { overrides, issues } = read(env)
  expect(issues).toEqual([])
  return Object.fromEntries(overrides.map((o) => [o.path.join('.'), o.value]))
}

describe('SWITCHBOARD_* env overrides', () => {
  it('maps paths case-insensitively, camelCase keys written whole or split at _', () => {
    expect(
      values({
        SWITCHBOARD_SERVER_PORT: '8080',
        SWITCHBOARD_LIMITS_MAXMESSAGEBYTES: '2MiB',
        SWITCHBOARD_LIMITS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '10',
        SWITCHBOARD_SERVER_HEARTBEAT_INTERVAL_MS: '5000',
        switchboard_mode: 'production',
        SWITCHBOARD_ENGINE_TYPE: 'redis',
        SWITCHBOARD_ENGINE_URL: 'redis://localhost:6379',
        SWITCHBOARD_AUTH_ANONYMOUS: 'false',
        SWITCHBOARD_AUTH_JWT_SECRET: 's',
        UNRELATED: 'x',
      }),
    ).toEqual({
      'server.port': 8080,
      'limits.maxMessageBytes': '2MiB',
      'limits.maxSubscriptionsPerConnection': 10,
      'server.heartbeat.intervalMs': 5000,
      'engine.type': 'redis',
      'engine.url': 'redis://localhost:6379',
      'auth.anonymous': false,
      'auth.jwt.secret': 's',
    })
  })

  it('coerces numbers, booleans, lists and JSON by the schema type', () => {
    expect(
      values({
        SWITCHBOARD_LIMITS_MAXBUFFEREDBYTES: '65536',
        SWITCHBOARD_AUTH_ANONYMOUS: 'YES',
        SWITCHBOARD_SERVER_CORS: 'https://a.example, https://b.example',
        SWITCHBOARD_AUTH_APIKEYS: '["k1","k2"]',
        SWITCHBOARD_AUTH_JWT_AUDIENCE: 'app',
        SWITCHBOARD_AUTH_JWT_ISSUER: '["i1","i2"]',
        SWITCHBOARD_CHANNELS: '{"chat/**":{"history":{"size":10}}}',
        SWITCHBOARD_STORAGE: '{"type":"memory"}',
      }),
    ).toEqual({
      'limits.maxBufferedBytes': 65536,
      'auth.anonymous': true,
      'server.cors': ['https://a.example', 'https://b.example'],
      'auth.apiKeys': ['k1', 'k2'],
      'auth.jwt.audience': 'app',
      'auth.jwt.issuer': ['i1', 'i2'],
      channels: { 'chat/**': { history: { size: 10 } } },
      storage: { type: 'memory' },
    })
  })

  it('passes values that do not fit through, for validation to report', () => {
    expect(values({ SWITCHBOARD_SERVER_PORT: 'eighty', SWITCHBOARD_AUTH_ANONYMOUS: 'maybe' })).toEqual({
      'server.port': 'eighty',
      'auth.anonymous': 'maybe',
    })
  })

  it('names unknown variables and bad JSON', () => {
    const { overrides, issues } = read({
      SWITCHBOARD_SERVER_PROT: '1',
      SWITCHBOARD_: 'x',
      SWITCHBOARD_SERVER__PORT: '1',
      SWITCHBOARD_SERVER_PORT_X: '1',
      SWITCHBOARD_CHANNELS: '{nope',
    })
    expect(overrides).toEqual([])
    expect(issues.map((i) => i.source)).toEqual([
      'SWITCHBOARD_',
      'SWITCHBOARD_CHANNELS',
      'SWITCHBOARD_SERVER_PORT_X',
      'SWITCHBOARD_SERVER_PROT',
      'SWITCHBOARD_SERVER__PORT',
    ])
    expect(issues[3]!.message).toBe('unknown environment variable: no config key matches SWITCHBOARD_SERVER_PROT')
    expect(issues[1]).toMatchObject({ path: 'channels', message: expect.stringMatching(/^expected JSON here/) })
  })
})
