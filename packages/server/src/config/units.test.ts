import { describe, expect, it } from 'vitest'
import { parseDuration, parseSize } from './units.js'
import { resolveConfig, ConfigValueError } from './resolve.js'

describe('sizes', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    ['1024', 1024],
    ['12b', 12],
    ['512KiB', 512 * 1024],
    ['1MiB', 1024 ** 2],
    ['1mib', 1024 ** 2],
    ['4MB', 4_000_000],
    ['1.5 KB', 1500],
    ['2GiB', 2 * 1024 ** 3],
  ])('%j → %d', (input, bytes) => expect(parseSize(input)).toBe(bytes))

  it.each(['1 parsec', '', 'MiB', '-1', '1TiB', '1 Mi'])('rejects %j', (input) => {
    expect(() => parseSize(input)).toThrow(/invalid size/)
  })
  it('rejects negative and non-finite numbers', () => {
    expect(() => parseSize(-1)).toThrow(/invalid size/)
    expect(() => parseSize(Infinity)).toThrow(/invalid size/)
  })
})

describe('durations', () => {
  it.each([
    [250, 250],
    ['250', 250],
    ['500ms', 500],
    ['10s', 10_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['2d', 172_800_000],
  ])('%j → %d', (input, ms) => expect(parseDuration(input)).toBe(ms))

  it.each(['10 minutes', '1w', 'soon', '-5s'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/invalid duration/)
  })
})

describe('resolveConfig', () => {
  it('fills defaults', () => {
    const c = resolveConfig({})
    expect(c.server).toMatchObject({ host: '0.0.0.0', port: 7070 })
    expect(c.limits).toMatchObject({ maxMessageBytes: 1024 ** 2, maxBufferedBytes: 4 * 1024 ** 2, messagesBurst: 2000 })
    expect(c.auth).toEqual({ anonymous: true, apiKeys: [] })
    expect(c.mode).toBe('development')
  })

  it('converts units', () => {
    const c = resolveConfig({
      limits: { maxMessageBytes: '2MiB' },
      channels: { 'chat/**': { history: { ttl: '10m' } } },
    })
    expect(c.limits.maxMessageBytes).toBe(2 * 1024 ** 2)
    expect(c.channels['chat/**']).toEqual({ history: { size: 0, ttlMs: 600_000 } })
  })

  it('throws a ConfigValueError carrying the key path', () => {
    try {
      resolveConfig({ channels: { 'a.b/*': { history: { ttl: 'later' } } } })
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigValueError)
      expect((e as ConfigValueError).path).toEqual(['channels', 'a.b/*', 'history', 'ttl'])
      expect((e as Error).message).toMatch(/^channels\.a\.b\/\*\.history\.ttl: invalid duration "later"/)
    }
  })
})
