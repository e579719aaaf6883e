import { describe, expect, it } from 'vitest'
import { ConfigError, formatIssue } from './issues.js'
import { assertValidConfig, validateConfig } from './validate.js'

const messages = (value: unknown) => validateConfig(value).map((i) => `${i.path}: ${i.message}`)

describe('validateConfig', () => {
  it('accepts the empty config and a full one', () => {
    expect(validateConfig({})).toEqual([])
    expect(
      validateConfig({
        server: { host: '0.0.0.0', port: 7070, cors: ['https://app.example'], heartbeat: { intervalMs: 10_000 } },
        auth: {
          anonymous: false,
          jwt: { secret: 's3cret', issuer: 'me', audience: ['a', 'b'], algorithms: ['HS256'] },
          webhook: { url: 'http://app/auth' },
          apiKeys: ['k1'],
        },
        permissions: './permissions.yaml',
        storage: { type: 'postgres', url: 'postgres://localhost/db' },
        engine: { type: 'redis', url: 'redis://localhost:6379' },
        channels: { 'chat/**': { history: { size: 100, ttl: '10m' } }, 'news/*': {} },
        schemas: { 'todos/*': './schemas/todo.json' },
        limits: {
          maxMessageBytes: '1MiB',
          maxSubscriptionsPerConnection: 1000,
          messagesPerSecond: 100,
          maxBufferedBytes: 4194304,
        },
        log: { level: 'debug' },
        mode: 'production',
      }),
    ).toEqual([])
  })

  it('rejects unknown keys everywhere, suggesting near misses', () => {
    expect(messages({ sever: {} })).toEqual([expect.stringMatching(/^sever: unknown key \(did you mean "server"\?\)/)])
    expect(messages({ server: { prot: 1 } })).toEqual(['server.prot: unknown key (did you mean "port"?)'])
    expect(messages({ limits: { zzz: 1 } })[0]).toMatch(/^limits\.zzz: unknown key \(expected one of maxMessageBytes/)
    expect(messages({ channels: { 'a/*': { histroy: {} } } })).toEqual([
      'channels.a/*.histroy: unknown key (did you mean "history"?)',
    ])
    expect(messages({ storage: { type: 'sqlite', url: 'x' } })).toEqual([
      'storage.url: unknown key (expected one of type, path, synchronous)',
    ])
  })

  it('reports wrong types with what it got', () => {
    expect(messages({ server: { port: '80' } })).toEqual(['server.port: expected integer, got "80"'])
    expect(messages({ server: { port: 70000 } })).toEqual([
      'server.port: expected integer to be less or equal to 65535, got 70000',
    ])
    expect(messages({ auth: { anonymous: 'yes' } })).toEqual(['auth.anonymous: expected boolean, got "yes"'])
    expect(messages({ server: { cors: 'x' } })).toEqual(['server.cors: expected array, got "x"'])
    expect(messages({ server: [] })).toEqual(['server: expected object, got a list'])
    expect(messages({ limits: { maxUpdateOps: 0 } })).toEqual([
      'limits.maxUpdateOps: expected integer to be greater or equal to 1, got 0',
    ])
    expect(messages({ limits: { maxUpdateOps: 1000 } })).toEqual([])
  })

  it('explains sizes and durations', () => {
    expect(messages({ limits: { maxMessageBytes: '1 parsec' } })).toEqual([
      'limits.maxMessageBytes: invalid size "1 parsec" (use bytes or units like 512KiB, 1MiB, 4MB)',
    ])
    expect(messages({ limits: { maxBufferedBytes: -1 } })[0]).toMatch(/invalid size -1/)
    expect(messages({ channels: { 'c/*': { history: { ttl: '10 minutes' } } } })[0]).toMatch(
      /^channels\.c\/\*\.history\.ttl: invalid duration "10 minutes"/,
    )
  })

  it('explains enums and tagged unions', () => {
    expect(messages({ log: { level: 'loud' } })[0]).toMatch(/^log\.level: expected one of "fatal", .*got "loud"$/)
    expect(messages({ engine: { type: 'nats' } })).toEqual([
      'engine.type: expected one of "memory", "redis", got "nats"',
    ])
    expect(messages({ engine: { type: 'redis' } })).toEqual([
      'engine: engine type redis needs url (one Redis server) or cluster (Redis Cluster seed nodes)',
    ])
    expect(messages({ engine: {} })).toEqual(['engine: missing required key "type" (one of "memory", "redis")'])
    expect(messages({ engine: 'redis' })[0]).toMatch(/^engine: expected an object with a type/)
    expect(messages({ auth: { jwt: { issuer: 5 } } })).toEqual([
      'auth.jwt.issuer: expected string or a list of strings, got 5',
    ])
  })

  it('engine redis: one Redis server or a cluster, exactly one; prefix, nodeId and nodeTimeout checked', () => {
    expect(messages({ engine: { type: 'redis', cluster: ['redis://a:7000', 'redis://b:7001'] } })).toEqual([])
    expect(
      messages({
        engine: { type: 'redis', url: 'redis://r:6379', prefix: 'app1:', nodeId: 'web-1', nodeTimeout: '15s' },
      }),
    ).toEqual([])
    expect(messages({ engine: { type: 'redis', url: 'redis://r', cluster: ['redis://a:7000'] } })).toEqual([
      'engine.cluster: give url (one Redis server) or cluster, not both',
    ])
    expect(messages({ engine: { type: 'redis', cluster: [] } })[0]).toMatch(/^engine\.cluster: /)
    expect(messages({ engine: { type: 'redis', url: 'redis://r', nodeId: 'has space' } })[0]).toMatch(
      /^engine\.nodeId: /,
    )
    expect(messages({ engine: { type: 'redis', url: 'redis://r', nodeTimeout: 'soon' } })[0]).toMatch(
      /^engine\.nodeTimeout: invalid duration/,
    )
  })

  it('checks channel and schema keys are valid name patterns', () => {
    expect(messages({ channels: { 'chat/**': {}, 'bad//x': {}, 'a b': {} } })).toEqual([
      expect.stringMatching(/^channels\.bad\/\/x: invalid channel pattern "bad\/\/x"/),
      expect.stringMatching(/^channels\."a b": invalid channel pattern "a b"/),
    ])
    expect(messages({ schemas: { 'todos/***': './t.json' } })[0]).toMatch(
      /^schemas\.todos\/\*\*\*: invalid schema pattern/,
    )
  })

  it('reports every issue in one run', () => {
    expect(messages({ server: { port: -1, bogus: 1 }, mode: 'prod', channels: { '': {} } })).toHaveLength(4)
  })

  it('uses the source to locate issues', () => {
    const issues = validateConfig(
      { server: { port: 'x' } },
      { locate: (path, target) => ({ file: 'f.yaml', line: path.length, column: target === 'key' ? 1 : 9 }) },
    )
    expect(issues).toEqual([
      { path: 'server.port', message: 'expected integer, got "x"', file: 'f.yaml', line: 2, column: 9 },
    ])
    expect(formatIssue(issues[0]!)).toBe('f.yaml:2:9 server.port: expected integer, got "x"')
  })

  it('assertValidConfig throws a ConfigError', () => {
    expect(() => assertValidConfig({ mode: 'x' })).toThrow(ConfigError)
    expect(() => assertValidConfig({ mode: 'production' })).not.toThrow()
  })
})
