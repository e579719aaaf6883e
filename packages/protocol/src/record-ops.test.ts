import { describe, expect, it } from 'vitest'
import { applyMutation, applyUpdate, getPath, RecordOpError, setIn, unsetIn } from './record-ops.js'

describe('record writes', () => {
  it('sets a path, creating objects for missing or null parents', () => {
    expect(setIn({}, 'a.b.c', 1)).toEqual({ a: { b: { c: 1 } } })
    expect(setIn({ a: null }, 'a.b', 1)).toEqual({ a: { b: 1 } })
    expect(setIn({ a: { x: 1 } }, 'a.y', 2)).toEqual({ a: { x: 1, y: 2 } })
    // Numeric segments on objects are keys.
    expect(setIn({}, 'a.0', 'x')).toEqual({ a: { '0': 'x' } })
  })

  it('numeric segments index arrays: replace, append at the end, refuse past it', () => {
    expect(setIn({ l: [1, 2] }, 'l.0', 9)).toEqual({ l: [9, 2] })
    expect(setIn({ l: [1, 2] }, 'l.2', 3)).toEqual({ l: [1, 2, 3] })
    expect(setIn({ l: [{ t: 'a' }] }, 'l.0.t', 'b')).toEqual({ l: [{ t: 'b' }] })
    expect(() => setIn({ l: [1] }, 'l.5', 0)).toThrow(/past the end/)
    expect(() => setIn({ l: [1] }, 'l.x', 0)).toThrow(/not an index/)
    expect(() => setIn({ l: [1] }, 'l.01', 0)).toThrow(/not an index/)
  })

  it('refuses to descend into scalars', () => {
    expect(() => setIn({ a: 5 }, 'a.b', 1)).toThrow(RecordOpError)
    expect(() => setIn({ a: 'text' }, 'a.b', 1)).toThrow(/a is a string/)
  })

  it('shares what did not change and never mutates its input', () => {
    const doc = { a: { x: 1 }, b: { y: [1, 2] } }
    const frozen = JSON.stringify(doc)
    const next = setIn(doc, 'a.x', 2)
    expect(next.b).toBe(doc.b)
    expect(next.a).not.toBe(doc.a)
    expect(JSON.stringify(doc)).toBe(frozen)
    const pushed = applyUpdate(doc, { push: { 'b.y': 3 } })
    expect(pushed.a).toBe(doc.a)
    expect(JSON.stringify(doc)).toBe(frozen)
  })

  it('reads own properties only: prototype names are not values', () => {
    expect(getPath({}, 'toString')).toBeUndefined()
    expect(getPath({ a: [1] }, 'a.length')).toBeUndefined()
    expect(setIn({}, 'toString.x', 1)).toEqual({ toString: { x: 1 } })
    expect(applyUpdate({}, { increment: { valueOf: 2 } })).toEqual({ valueOf: 2 })
  })

  it('rejects __proto__, prototype and constructor segments and malformed paths', () => {
    for (const path of ['__proto__', 'a.__proto__.b', 'prototype', 'a.constructor', 'a..b', '.a', 'a.', '']) {
      expect(() => setIn({}, path, 1)).toThrow(RecordOpError)
    }
    expect(({} as Record<string, unknown>).b).toBeUndefined()
  })

  it('increment: numbers only, missing counts as 0, result must stay finite', () => {
    expect(applyUpdate({ n: 1 }, { increment: { n: 2, 'm.k': -1 } })).toEqual({ n: 3, m: { k: -1 } })
    expect(() => applyUpdate({ n: 'x' }, { increment: { n: 1 } })).toThrow(/n is not a number/)
    expect(() => applyUpdate({ n: 1 }, { increment: { n: Infinity } })).toThrow(/finite/)
    expect(() => applyUpdate({ n: Number.MAX_VALUE }, { increment: { n: Number.MAX_VALUE } })).toThrow(/overflow/)
  })

  it('push appends one item (arrays are items too); missing becomes a one-item array', () => {
    expect(applyUpdate({}, { push: { tags: 'a' } })).toEqual({ tags: ['a'] })
    expect(applyUpdate({ tags: ['a'] }, { push: { tags: ['b', 'c'] } })).toEqual({ tags: ['a', ['b', 'c']] })
    expect(() => applyUpdate({ tags: {} }, { push: { tags: 1 } })).toThrow(/not an array/)
  })

  it('unset removes keys and array items; missing paths are no-ops', () => {
    const doc = { a: { b: 1, c: 2 }, l: [1, 2, 3] }
    expect(unsetIn(doc, 'a.b')).toEqual({ a: { c: 2 }, l: [1, 2, 3] })
    expect(unsetIn(doc, 'l.1')).toEqual({ a: { b: 1, c: 2 }, l: [1, 3] })
    expect(unsetIn(doc, 'x.y')).toBe(doc)
    expect(unsetIn(doc, 'a.b.c')).toBe(doc)
    expect(unsetIn(doc, 'l.9')).toBe(doc)
  })

  it('applies increment, then push, then unset', () => {
    expect(applyUpdate({ n: 1 }, { unset: ['n'], increment: { n: 1 }, push: { l: 1 } })).toEqual({ l: [1] })
  })

  it('mutations: whole-document sets must be objects; path writes and updates create the record; delete removes it', () => {
    expect(applyMutation(undefined, { kind: 'set', value: { a: 1 } })).toEqual({ a: 1 })
    expect(() => applyMutation(undefined, { kind: 'set', value: [1] })).toThrow(/JSON object/)
    expect(() => applyMutation(undefined, { kind: 'set', value: null })).toThrow(/JSON object/)
    expect(applyMutation(undefined, { kind: 'set', path: 'a', value: 1 })).toEqual({ a: 1 })
    expect(applyMutation(undefined, { kind: 'update', ops: { increment: { n: 1 } } })).toEqual({ n: 1 })
    expect(applyMutation({ a: 1 }, { kind: 'delete' })).toBeUndefined()
    expect(() => applyMutation({}, { kind: 'set', path: 'a', value: undefined })).toThrow(/missing/)
  })

  it('an update with thousands of paths applies each of them, leaving the input (deeply frozen) untouched', () => {
    const freeze = <T>(v: T): T => {
      if (typeof v === 'object' && v !== null) for (const c of Object.values(v)) freeze(c)
      return Object.freeze(v)
    }
    const doc = freeze({ n: { a: 1 }, list: [{ x: 1, y: 2 }, 'b', 'c'], other: { deep: { z: 1 } } })
    const increment: Record<string, number> = { 'n.a': 1 }
    for (let i = 0; i < 5000; i++) increment[`m.k${i}`] = i
    const item = freeze({ x: 1, y: 2 })
    const out = applyUpdate(doc, {
      increment,
      push: { list: item, 'fresh.l': 1 },
      unset: ['list.0.x', 'list.1', 'n.missing', 'other.none.x'],
    })
    expect(out.n).toEqual({ a: 2 })
    expect(Object.keys(out.m as object)).toHaveLength(5000)
    expect((out.m as Record<string, number>).k4999).toBe(4999)
    expect(out.list).toEqual([{ y: 2 }, 'c', { x: 1, y: 2 }])
    expect(out.fresh).toEqual({ l: [1] })
    // Untouched parts are shared, not copied; writes never reach the input or a stored item.
    expect(out.other).toBe(doc.other)
    expect((out.list as unknown[])[2]).toBe(item)
    expect(doc).toEqual({ n: { a: 1 }, list: [{ x: 1, y: 2 }, 'b', 'c'], other: { deep: { z: 1 } } })
  })

  it('a failing operation leaves the input untouched', () => {
    const doc = Object.freeze({ a: Object.freeze({ b: 1 }), s: 'text' })
    expect(() => applyUpdate(doc, { increment: { 'a.b': 1, 's.x': 1 } })).toThrow(/s is a string/)
    expect(doc).toEqual({ a: { b: 1 }, s: 'text' })
  })
})
