import { describe, expect, it } from 'vitest'
import { collectionOf, compareSpecificity, compilePattern, isValidName, isValidPattern, parsePath } from './names.js'

describe('names', () => {
  it.each([
    ['chat/lobby', true],
    ['todos/42', true],
    ['a_b.c:d@e-f', true],
    ['', false],
    ['a//b', false],
    ['/a', false],
    ['a/', false],
    ['a b', false],
    ['$records/x', false],
    ['chat/*', false],
    ['x'.repeat(255), true],
    ['x'.repeat(256), false],
  ])('isValidName(%j) is %s', (name, ok) => expect(isValidName(name)).toBe(ok))

  it('patterns allow * and ** segments only as whole segments', () => {
    expect(isValidPattern('chat/*')).toBe(true)
    expect(isValidPattern('**')).toBe(true)
    expect(isValidPattern('chat/a*')).toBe(false)
  })

  it.each([
    ['chat/*', 'chat/lobby', true],
    ['chat/*', 'chat/a/b', false],
    ['chat/*', 'chat', false],
    ['chat/**', 'chat/a/b', true],
    ['chat/**', 'chat', false],
    ['**', 'a', true],
    ['a/**/z', 'a/b/c/z', true],
    ['a/**/z', 'a/z', false],
    ['*/x', 'q/x', true],
    ['exact', 'exact', true],
  ])('%s matches %s: %s', (p, n, ok) => expect(compilePattern(p).matches(n)).toBe(ok))

  it('captures wildcard values in order', () => {
    expect(compilePattern('users/*/docs/**').capture('users/alice/docs/a/b')).toEqual(['alice', 'a/b'])
    expect(compilePattern('users/*').capture('other/x')).toBeNull()
  })

  it('orders patterns from most to least specific', () => {
    const sorted = ['**', 'chat/**', 'chat/*', 'chat/lobby', '*/lobby'].sort(compareSpecificity)
    expect(sorted[0]).toBe('chat/lobby')
    expect(sorted.at(-1)).toBe('**')
    expect(sorted.indexOf('chat/*')).toBeLessThan(sorted.indexOf('chat/**'))
  })

  it('collections and paths', () => {
    expect(collectionOf('todos/42')).toBe('todos')
    expect(collectionOf('a/b/c')).toBe('a/b')
    expect(parsePath('items.0.title')).toEqual(['items', '0', 'title'])
    for (const bad of ['__proto__', 'a.__proto__', 'constructor.x', 'a.prototype', 'a..b', ''])
      expect(parsePath(bad)).toBeNull()
  })
})
