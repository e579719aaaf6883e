import { describe, expect, it } from 'vitest'
import { SwitchboardError } from '../errors.js'
import { announcedLimits, encodeOutgoing, utf8Length } from './outgoing.js'

const nested = (depth: number) => {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = [value]
  return value
}
const failure = (f: () => unknown): SwitchboardError => {
  try {
    f()
  } catch (err) {
    return err as SwitchboardError
  }
  throw new Error('expected a failure')
}

describe('encodeOutgoing', () => {
  it('encodes what the server takes', () => {
    expect(encodeOutgoing({ t: 'pub', id: 1, ch: 'a', d: nested(32) })).toBe(
      `{"t":"pub","id":1,"ch":"a","d":${'['.repeat(32)}1${']'.repeat(32)}}`,
    )
  })

  it('refuses data nested deeper than maxJsonDepth with INVALID_DATA, at any depth without overflowing', () => {
    for (const depth of [33, 100_000]) {
      const err = failure(() => encodeOutgoing({ t: 'pub', id: 1, ch: 'a', d: nested(depth) }))
      expect(err).toBeInstanceOf(SwitchboardError)
      expect(err).toMatchObject({ code: 'INVALID_DATA', message: 'data is nested deeper than 32 levels' })
    }
    expect(() => encodeOutgoing({ d: nested(5) }, { maxJsonDepth: 4 })).toThrow(SwitchboardError)
  })

  it('refuses values JSON cannot encode with INVALID_DATA', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(failure(() => encodeOutgoing({ d: cycle }))).toMatchObject({ code: 'INVALID_DATA' })
    expect(failure(() => encodeOutgoing({ d: 1n }))).toMatchObject({ code: 'INVALID_DATA' })
  })

  it('refuses frames over maxMessageBytes (counted in UTF-8) with TOO_LARGE', () => {
    const limits = { maxMessageBytes: 100, maxJsonDepth: 32 }
    expect(encodeOutgoing({ d: 'x'.repeat(80) }, limits)).toHaveLength(88)
    expect(failure(() => encodeOutgoing({ d: 'x'.repeat(100) }, limits))).toMatchObject({ code: 'TOO_LARGE' })
    // 40 characters, 120 bytes.
    expect(failure(() => encodeOutgoing({ d: '€'.repeat(40) }, limits))).toMatchObject({ code: 'TOO_LARGE' })
  })

  it('measures UTF-8 like an encoder', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀b€', '\ud800x', '\udc00']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length)
    }
  })
})

describe('announcedLimits', () => {
  it('keeps sane numbers from the welcome and defaults the rest', () => {
    expect(announcedLimits({ maxMessageBytes: 1024, maxJsonDepth: 8, maxUpdateOps: 10 })).toEqual({
      maxMessageBytes: 1024,
      maxJsonDepth: 8,
      maxUpdateOps: 10,
    })
    expect(announcedLimits(undefined)).toEqual({ maxJsonDepth: 32 })
    expect(announcedLimits({ maxMessageBytes: '1MiB', maxJsonDepth: -1, maxUpdateOps: 1.5 })).toEqual({
      maxJsonDepth: 32,
    })
  })
})
