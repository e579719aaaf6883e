import { describe, expect, it } from 'vitest'
import { idFromHead } from './frame-head.js'

describe('idFromHead', () => {
  it('finds the id after the type, whatever follows it', () => {
    expect(idFromHead('{"t":"rset","id":12,"n":"a","d":{"big":"' + 'x'.repeat(100_000))).toBe(12)
    expect(idFromHead('{"id":0}')).toBe(0)
    expect(idFromHead(' { "t" : "pub" , "id" : 7 , "d": 1')).toBe(7)
    expect(idFromHead('{"t":"pub","ch":"a/b","iv":3,"x":null,"y":true,"z":-1.5e3,"id":9,')).toBe(9)
    expect(idFromHead('{"t":"p\\"ub","id":4}')).toBe(4)
  })

  it('gives up at an object or array before the id, or past the head', () => {
    expect(idFromHead('{"t":"rset","d":{"a":1},"id":3}')).toBeUndefined()
    expect(idFromHead('{"t":"rset","d":[1],"id":3}')).toBeUndefined()
    expect(idFromHead('{"t":"' + 'x'.repeat(2000) + '","id":3}')).toBeUndefined()
    expect(idFromHead('{"t":"pub","id":3')).toBeUndefined() // the number may go on
  })

  it('accepts only what a valid request id can be', () => {
    expect(idFromHead('{"id":-1,')).toBeUndefined()
    expect(idFromHead('{"id":1.5,')).toBeUndefined()
    expect(idFromHead('{"id":"1",')).toBeUndefined()
    expect(idFromHead('{"id":99999999999999999,')).toBeUndefined()
    expect(idFromHead('[{"t":"pub","id":1}]')).toBeUndefined()
    expect(idFromHead('not json')).toBeUndefined()
    expect(idFromHead('')).toBeUndefined()
  })
})
