import { afterEach, describe, expect, it } from 'vitest'
import { RawClient } from '../support/raw-client.js'
import { Resources } from '../support/server.js'

const res = new Resources()
afterEach(() => res.cleanup())

describe('record wire protocol', () => {
  it('subscribe, set, change pushed to subscribers after the ack, carrying the write id', async () => {
    const { url } = await res.server()
    const a = await RawClient.open(url)
    const b = await RawClient.open(url)
    try {
      a.send({ t: 'rsub', id: 1, n: 'todos/1' })
      expect((await a.waitFor((m) => m.id === 1)).r).toEqual({ v: 0 })
      b.send({ t: 'rset', id: 2, n: 'todos/1', d: { title: 'x' }, w: 'b:1' })
      expect((await b.waitFor((m) => m.id === 2)).r).toEqual({ v: 1 })
      expect(await a.waitFor((m) => m.t === 'rchg')).toEqual({
        t: 'rchg',
        n: 'todos/1',
        v: 1,
        d: { title: 'x' },
        w: 'b:1',
      })
      b.send({ t: 'rupd', id: 3, n: 'todos/1', ops: { increment: { votes: 2 } } })
      expect((await b.waitFor((m) => m.id === 3)).r).toEqual({ v: 2 })
      expect(await a.waitFor((m) => m.t === 'rchg' && m.v === 2)).toEqual({
        t: 'rchg',
        n: 'todos/1',
        v: 2,
        ops: { increment: { votes: 2 } },
      })
      b.send({ t: 'rset', id: 4, n: 'todos/1', p: 'title', d: 'y', iv: 1 })
      const conflict = await b.waitFor((m) => m.id === 4)
      expect(conflict).toMatchObject({
        t: 'err',
        code: 'VERSION_CONFLICT',
        data: { version: 2, data: { title: 'x', votes: 2 } },
      })
      b.send({ t: 'rget', id: 5, n: 'todos/1' })
      expect((await b.waitFor((m) => m.id === 5)).r).toEqual({ v: 2, d: { title: 'x', votes: 2 } })
      b.send({ t: 'rdel', id: 6, n: 'todos/1' })
      expect((await b.waitFor((m) => m.id === 6)).r).toEqual({ v: 3 })
      expect(await a.waitFor((m) => m.t === 'rchg' && m.v === 3)).toEqual({ t: 'rchg', n: 'todos/1', v: 3, del: true })
      b.send({ t: 'rset', id: 7, n: 'todos/1', d: { again: true } })
      expect((await b.waitFor((m) => m.id === 7)).r).toEqual({ v: 4 })
    } finally {
      a.close()
      b.close()
    }
  })
})
