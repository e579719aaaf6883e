import { describe, expect, it } from 'vitest'
import { ConfigError } from './issues.js'
import { loadConfig } from './load.js'
import { resolveConfig } from './resolve.js'

const issues = (overrides: Record<string, unknown>) => {
  try {
    loadConfig({ env: {}, overrides, overridesSource: 'test' })
  } catch (e) {
    if (e instanceof ConfigError) return e.errors.map((i) => `${i.path}: ${i.message}`)
    throw e
  }
  return []
}

describe('hooks config', () => {
  it('defaults: no url, every event, a one-second grace, bounded queue and retries', () => {
    expect(resolveConfig({}).hooks).toEqual({
      url: null,
      secret: null,
      events: ['occupied', 'vacated', 'connect', 'disconnect'],
      graceMs: 1000,
      timeoutMs: 5000,
      batchMs: 50,
      maxBatch: 500,
      maxQueue: 10_000,
      maxAttempts: 6,
      retryDelayMs: 500,
      maxRetryDelayMs: 30_000,
    })
  })

  it('a url needs a secret and must be http(s); unknown events and keys are refused', () => {
    expect(issues({ hooks: { url: 'http://app/hooks' } })).toEqual(['hooks.secret: is required when hooks.url is set'])
    expect(issues({ hooks: { url: 'ftp://app/hooks', secret: 's' } })).toEqual(['hooks.url: must be an http(s) URL'])
    expect(issues({ hooks: { url: 'http://app/hooks', secret: 's', events: ['published'] } })).toHaveLength(1)
    expect(issues({ hooks: { graceMS: 5 } })).toHaveLength(1)
    expect(issues({ hooks: { url: 'https://app/hooks', secret: 's', graceMs: 0 } })).toEqual([])
  })
})
