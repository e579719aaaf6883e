import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, createServer, loadConfig, resolveConfig } from '@switchboard/server'
import { fuzzRuns } from './fuzz-settings.js'

const dir = mkdtempSync(join(tmpdir(), 'sb-config-fuzz-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const leaf = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
  fc.constantFrom('10s', '1MiB', '-5ms', '1e400', '0', '', 'env:SB_FUZZ_UNSET', 'loopback', '10.0.0.0/8', '::1/200'),
)
const section = (...keys: string[]) => fc.dictionary(fc.constantFrom(...keys), leaf, { maxKeys: 4 })
const config = fc.record(
  {
    server: fc.oneof(
      section('host', 'port', 'cors', 'handshakeTimeoutMs', 'drainTimeoutMs', 'metrics', 'trustProxy', 'nope'),
      fc.record({ heartbeat: section('intervalMs', 'timeoutMs'), drain: section('windowMs') }, { requiredKeys: [] }),
    ),
    auth: fc.oneof(
      section('anonymous', 'apiKeys'),
      fc.record(
        {
          jwt: section('secret', 'publicKey', 'jwksUrl', 'issuer', 'algorithms', 'clockTolerance', 'jwksCooldown'),
          webhook: section('url', 'timeoutMs', 'cacheTtl', 'sessionTtl'),
        },
        { requiredKeys: [] },
      ),
    ),
    limits: section(
      'maxMessageBytes',
      'maxSubscriptionsPerConnection',
      'messagesPerSecond',
      'messagesBurst',
      'maxBufferedBytes',
      'maxJsonDepth',
      'maxUpdateOps',
      'maxConnectionsPerIp',
      'connectsPerSecond',
    ),
    channels: fc.dictionary(
      fc.constantFrom('chat/*', 'a/**', '**', 'bad//pattern', '', '$x'),
      fc.oneof(fc.record({ history: section('size', 'ttl') }), leaf),
      { maxKeys: 3 },
    ),
    hooks: section('url', 'secret', 'events', 'graceMs', 'batchMs', 'maxBatch', 'retryDelayMs'),
    presence: section('batchMs', 'countsOnly'),
    rpc: section('defaultTimeoutMs', 'maxTimeoutMs'),
    log: section('level'),
    mode: fc.constantFrom('development', 'production', 'test', 1),
    // Only what opens nothing: no database files, no connections.
    storage: fc.constantFrom({ type: 'memory' }, { type: 'nope' }, 5, { type: 'postgres' }),
    engine: fc.constantFrom({ type: 'memory' }, { type: 'redis' }, { type: 'redis', url: 'redis://127.0.0.1:1' }, []),
    permissions: fc.constantFrom('./missing-rules.yaml', ''),
  },
  { requiredKeys: [] },
)
const yamlText = fc.oneof(
  { weight: 4, arbitrary: config.map((c) => stringify(c)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('a: [', 'server: {port: }', '- 1\n- 2', '&a [*a]', 'x: !!binary AAAA', '\t:'),
  },
)
const envVars = fc.dictionary(
  fc.constantFrom(
    'SWITCHBOARD_SERVER_PORT',
    'SWITCHBOARD_LIMITS_MAXMESSAGEBYTES',
    'SWITCHBOARD_NOPE',
    'SWITCHBOARD_AUTH_ANONYMOUS',
    'SWITCHBOARD_SERVER_DRAIN_WINDOWMS',
  ),
  fc.string({ maxLength: 10 }),
  { maxKeys: 2 },
)

describe('config fuzzing', () => {
  it('loadConfig either accepts a config the server then starts with, or throws a ConfigError naming every problem', async () => {
    // One file, rewritten each run: a long hunt (FUZZ_RUNS) leaves no directory of 100,000 to delete.
    const file = join(dir, 'switchboard.yaml')
    await fc.assert(
      fc.asyncProperty(yamlText, envVars, async (text, env) => {
        writeFileSync(file, text)
        let input: ReturnType<typeof loadConfig>
        try {
          input = loadConfig({ file, env })
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError)
          expect((e as ConfigError).errors.length).toBeGreaterThan(0)
          for (const issue of (e as ConfigError).errors) expect(issue.message.length).toBeGreaterThan(0)
          return
        }
        expect(() => resolveConfig(input)).not.toThrow()
        let server: ReturnType<typeof createServer> | undefined
        try {
          server = createServer({ ...input, storage: { type: 'memory' }, log: { level: 'silent' } })
        } catch (e) {
          // What needs more than the schema (keys, rule files, production refusals) is a ConfigError too.
          expect(e).toBeInstanceOf(ConfigError)
        }
        await server?.close()
      }),
      fuzzRuns(150),
    )
  })
})
