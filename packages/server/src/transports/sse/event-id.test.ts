import { describe, expect, it } from 'vitest'
import { decodeEventId, encodeEventId, type Positions } from './event-id.js'

describe('SSE event ids', () => {
  it('round-trips every channel position', () => {
    const positions: Positions = new Map([
      ['chat/a', [12, 'ep1']],
      ['chat/b', [0, 'ep2']],
    ])
    const id = encodeEventId(positions)
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/) // safe in a header and in a URL
    expect(decodeEventId(id)).toEqual(positions)
  })

  it('refuses what it did not make', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    for (const id of [
      '',
      'not base64!',
      b64([1, 2]),
      b64({ a: [1] }),
      b64({ a: [-1, 'e'] }),
      b64({ a: [1.5, 'e'] }),
      b64({ a: [1, 2] }),
      b64({ a: [1, 'x'.repeat(65)] }),
      b64(null),
      'x'.repeat(20_000),
    ]) {
      expect(decodeEventId(id)).toBeNull()
    }
  })
})
