import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, type ConfigIssue } from './issues.js'
import { loadConfig, loadConfigFile } from './load.js'

const dir = mkdtempSync(join(tmpdir(), 'sb-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function file(text: string): string {
  const path = join(dir, `c${n++}.yaml`)
  writeFileSync(path, text)
  return path
}

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn()
  } catch (e) {
    if (e instanceof ConfigError) return e.errors
    throw e
  }
  throw new Error('expected a ConfigError')
}

const at = (i: ConfigIssue) => `${i.line}:${i.column} ${i.path}: ${i.message}`

describe('loadConfigFile', () => {
  it('loads a valid file', () => {
    const f = file(`
server: { host: 127.0.0.1, port: 8080 }
auth:
  anonymous: false
channels:
  'chat/**': { history: { size: 100, ttl: 10m } }
limits: { maxMessageBytes: 1MiB }
`)
    expect(loadConfigFile(f, {})).toEqual({
      server: { host: '127.0.0.1', port: 8080 },
      auth: { anonymous: false },
      channels: { 'chat/**': { history: { size: 100, ttl: '10m' } } },
      limits: { maxMessageBytes: '1MiB' },
    })
  })

  it('treats an empty file as zero config', () => {
    expect(loadConfigFile(file(''), {})).toEqual({})
    expect(loadConfigFile(file('# just a comment\n'), {})).toEqual({})
  })

  it('maps every schema error to its line and column', () => {
    const f = file(`server:
  port: 70700
  prot: 1
auth:
  anonymous: nope
engine:
  type: redis
channels:
  'chat/**': { history: { ttl: 10 minutes } }
  'bad//x': {}
limits:
    maxMessageBytes: 1 parsec
log: { level: loud }
`)
    const issues = issuesOf(() => loadConfigFile(f, {}))
    expect(issues.map(at)).toEqual([
      '2:9 server.port: expected integer to be less or equal to 65535, got 70700',
      '3:3 server.prot: unknown key (did you mean "port"?)',
      '5:14 auth.anonymous: expected boolean, got "nope"',
      '7:3 engine: engine type redis needs url (one Redis server) or cluster (Redis Cluster seed nodes)',
      expect.stringMatching(/^9:32 channels\.chat\/\*\*\.history\.ttl: invalid duration "10 minutes"/),
      expect.stringMatching(/^10:3 channels\.bad\/\/x: invalid channel pattern/),
      expect.stringMatching(/^12:22 limits\.maxMessageBytes: invalid size "1 parsec"/),
      expect.stringMatching(/^13:15 log\.level: expected one of/),
    ])
    expect(issues.every((i) => i.file === f || f.endsWith(i.file!))).toBe(true)
  })

  it('formats a readable multi-line message', () => {
    const f = file('limits:\n    maxMessageBytes: 1 parsec\nmode: prod\n')
    try {
      loadConfigFile(f, {})
      expect.unreachable()
    } catch (e) {
      const lines = (e as Error).message.split('\n')
      expect(lines).toHaveLength(2)
      expect(lines[0]).toMatch(/c\d+\.yaml:2:22 limits\.maxMessageBytes: invalid size "1 parsec"/)
      expect(lines[1]).toMatch(/c\d+\.yaml:3:7 mode: expected one of "development", "production", got "prod"$/)
    }
  })

  it('reports YAML syntax errors with line and column', () => {
    const issues = issuesOf(() => loadConfigFile(file('server:\n  port: 1\n  host: [a\n'), {}))
    expect(issues.length).toBeGreaterThan(0)
    expect(issues[0]).toMatchObject({ path: '', line: expect.any(Number), column: expect.any(Number) })
    expect(issues[0]!.message).toMatch(/^YAML: /)
    const dup = issuesOf(() => loadConfigFile(file('mode: production\nmode: development\n'), {}))
    expect(dup[0]).toMatchObject({ line: 2, column: 1, message: expect.stringMatching(/unique/) })
  })

  it('YAML that parses but cannot become a value (an alias to no anchor, an alias bomb) is a config error', () => {
    // Found by tests/fuzz/config.fuzz.test.ts: these threw a bare ReferenceError.
    const dangling = issuesOf(() => loadConfigFile(file('*nowhere'), {}))
    expect(dangling[0]).toMatchObject({ path: '', line: 1, message: expect.stringMatching(/^YAML: .*alias/i) })
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 9 }, (_, i) => {
        const prev = String.fromCharCode(97 + i)
        const next = String.fromCharCode(98 + i)
        return `${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`
      }),
    ].join('\n')
    expect(issuesOf(() => loadConfigFile(file(bomb), {}))[0]!.message).toMatch(/^YAML: .*alias/i)
  })

  it('rejects a top level that is not a mapping, and a missing file', () => {
    expect(issuesOf(() => loadConfigFile(file('- a\n- b\n'), {}))[0]!.message).toMatch(/expected a mapping/)
    expect(issuesOf(() => loadConfigFile(join(dir, 'nope.yaml'), {}))[0]!.message).toBe(
      'cannot read config file: file not found',
    )
  })

  it('resolves relative file paths against the config file directory', () => {
    mkdirSync(join(dir, 'sub'))
    const f = join(dir, 'sub', 'switchboard.yaml')
    writeFileSync(
      f,
      'permissions: ./permissions.yaml\nstorage: { type: sqlite, path: data/db.sqlite }\nschemas: { "todos/*": /abs/todo.json }\n',
    )
    expect(loadConfigFile(f, {})).toMatchObject({
      permissions: join(dir, 'sub', 'permissions.yaml'),
      storage: { path: join(dir, 'sub', 'data', 'db.sqlite') },
      schemas: { 'todos/*': '/abs/todo.json' },
    })
  })
})

describe('env overrides and env: substitution', () => {
  it('layers file → SWITCHBOARD_* → overrides', () => {
    const f = file(
      'server: { host: 127.0.0.1, port: 1000 }\nstorage: { type: memory }\nlimits: { maxMessageBytes: 1MiB }\n',
    )
    const config = loadConfig({
      file: f,
      env: {
        SWITCHBOARD_SERVER_PORT: '2000',
        SWITCHBOARD_STORAGE_TYPE: 'postgres',
        SWITCHBOARD_STORAGE_URL: 'postgres://db/app',
        SWITCHBOARD_LIMITS_MAX_MESSAGE_BYTES: '2MiB',
      },
      overrides: { server: { port: 3000 } },
    })
    expect(config).toEqual({
      server: { host: '127.0.0.1', port: 3000 },
      storage: { type: 'postgres', url: 'postgres://db/app' },
      limits: { maxMessageBytes: '2MiB' },
    })
  })

  it('replaces a tagged-union object when the type changes', () => {
    const f = file('storage: { type: sqlite, path: /tmp/x.db }\n')
    const config = loadConfig({
      file: f,
      env: { SWITCHBOARD_STORAGE_TYPE: 'postgres', SWITCHBOARD_STORAGE_URL: 'postgres://db' },
    })
    expect(config.storage).toEqual({ type: 'postgres', url: 'postgres://db' })
  })

  it('names the env var for invalid env values and unknown variables', () => {
    const f = file('server: { port: 1000 }\n')
    const issues = issuesOf(() =>
      loadConfig({
        file: f,
        env: { SWITCHBOARD_SERVER_PORT: 'eighty', SWITCHBOARD_NOPE: '1', SWITCHBOARD_STORAGE_TYPE: 'postgres' },
      }),
    )
    expect(issues).toEqual([
      {
        path: '',
        source: 'SWITCHBOARD_NOPE',
        message: expect.stringMatching(/unknown environment variable.*SWITCHBOARD_NOPE/),
      },
      { path: 'server.port', source: 'SWITCHBOARD_SERVER_PORT', message: 'expected integer, got "eighty"' },
      { path: 'storage', source: 'SWITCHBOARD_STORAGE_TYPE', message: 'missing required key "url"' },
    ])
  })

  it('names the override source for invalid overrides', () => {
    const issues = issuesOf(() =>
      loadConfig({ env: {}, overrides: { server: { port: -5 } }, overridesSource: 'command line' }),
    )
    expect(issues).toEqual([
      { path: 'server.port', source: 'command line', message: 'expected integer to be greater or equal to 0, got -5' },
    ])
  })

  it('substitutes env:NAME in any string field, coerced by the schema type', () => {
    const f = file(`server: { port: env:PORT, cors: [env:ORIGIN] }
auth:
  anonymous: env:ANON
  jwt: { secret: env:JWT_SECRET }
  apiKeys: [ env:BACKEND_KEY, literal ]
`)
    const env = { PORT: '9000', ORIGIN: 'https://app', ANON: 'false', JWT_SECRET: 'shh', BACKEND_KEY: 'k' }
    expect(loadConfig({ file: f, env })).toEqual({
      server: { port: 9000, cors: ['https://app'] },
      auth: { anonymous: false, jwt: { secret: 'shh' }, apiKeys: ['k', 'literal'] },
    })
  })

  it('names the key (and line) when an env:NAME variable is unset', () => {
    const f = file('auth:\n  jwt: { secret: env:JWT_SECRET }\n')
    const issues = issuesOf(() => loadConfig({ file: f, env: {} }))
    expect(issues.map(at)).toEqual(['2:18 auth.jwt.secret: environment variable JWT_SECRET is not set'])
  })

  it('validates env:NAME values after substitution', () => {
    const f = file('limits:\n  maxMessageBytes: env:MAX\n')
    expect(issuesOf(() => loadConfig({ file: f, env: { MAX: 'huge' } })).map(at)).toEqual([
      expect.stringMatching(/^2:20 limits\.maxMessageBytes: invalid size "huge"/),
    ])
    expect(loadConfig({ file: f, env: { MAX: '64KiB' } })).toEqual({ limits: { maxMessageBytes: '64KiB' } })
  })

  it('does not modify the overrides object it is given', () => {
    const overrides = { auth: { jwt: { secret: 'env:S' } } }
    expect(loadConfig({ env: { S: 'x' }, overrides })).toEqual({ auth: { jwt: { secret: 'x' } } })
    expect(overrides.auth.jwt.secret).toBe('env:S')
  })

  it('is zero config with no file, no env and no overrides', () => {
    expect(loadConfig({ env: {} })).toEqual({})
  })
})
