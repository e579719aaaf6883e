import { describe, expect, it } from 'vitest'
import type { Publication } from './broker.js'
import { StreamRouter } from './stream-router.js'

const pub = (channel: string): Publication => ({ channel, data: null, offset: 1, epoch: 'e' })

describe('StreamRouter', () => {
  it('routes $-prefixed streams by prefix and everything else to the default route', () => {
    const got: string[] = []
    const router = new StreamRouter()
      .route(undefined, { receive: (p) => void got.push(`channels:${p.channel}`) })
      .route('$records/', { receive: (p) => void got.push(`records:${p.channel}`) })
    for (const c of ['chat/1', '$records/todos/1', '$unknown/x']) router.onPublication(pub(c))
    expect(got).toEqual(['channels:chat/1', 'records:$records/todos/1'])
  })

  it('refuses a second default, an overlapping prefix, and a prefix user channels could use', () => {
    const r = new StreamRouter().route(undefined, { receive: () => {} }).route('$records/', { receive: () => {} })
    expect(() => r.route(undefined, { receive: () => {} })).toThrow(/two default/)
    expect(() => r.route('$rec', { receive: () => {} })).toThrow(/overlapping/)
    expect(() => r.route('records/', { receive: () => {} })).toThrow(/must start with \$/)
  })
})
