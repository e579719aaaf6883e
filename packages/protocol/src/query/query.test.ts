import { describe, expect, it } from 'vitest'
import { SwitchboardError } from '../errors.js'
import { compileWhere, rowComparator } from './match.js'
import { canonicalQueryKey, parseQuery, type QueryLimits } from './spec.js'
import { compareStrings, compareValues, valueAt } from './values.js'

const limits: QueryLimits = { maxResults: 1000, maxClauses: 16 }

function invalid(collection: unknown, options: unknown): SwitchboardError {
  try {
    parseQuery(collection, options, limits)
  } catch (e) {
    return e as SwitchboardError
  }
  throw new Error('expected the query to be refused')
}

describe('valueAt', () => {
  it('follows own keys, and index segments into arrays or as object keys', () => {
    const doc = { a: { b: [10, { c: 'x' }] }, o: { '0': 'zero' }, n: null }
    expect(valueAt(doc, ['a', 'b', '1', 'c'])).toBe('x')
    expect(valueAt(doc, ['o', '0'])).toBe('zero')
    expect(valueAt(doc, ['a', 'b', 'length'])).toBeUndefined()
    expect(valueAt(doc, ['a', 'b', '01'])).toBeUndefined()
    expect(valueAt(doc, ['toString'])).toBeUndefined()
    expect(valueAt(doc, ['n'])).toBeNull()
    expect(valueAt(doc, ['n', 'x'])).toBeUndefined()
  })
})

describe('comparison', () => {
  it('ranks missing < null < false < true < numbers < strings < arrays and objects', () => {
    const ordered = [undefined, null, false, true, -5, 0, 2.5, '', 'A', 'a', [], {}]
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareValues(ordered[i], ordered[i + 1]), `${i}`).toBeLessThanOrEqual(0)
      expect(compareValues(ordered[i + 1], ordered[i]), `${i}`).toBeGreaterThanOrEqual(0)
    }
    expect(compareValues([1], { a: 1 })).toBe(0)
    expect(compareValues(1, 1.0)).toBe(0)
  })

  it('orders strings by code point, not by UTF-16 unit', () => {
    // U+FF5E (a BMP character) < U+1F600 (a surrogate pair) by code point; `<` says otherwise.
    expect('\u{1F600}' < '\uFF5E').toBe(true)
    expect(compareStrings('\uFF5E', '\u{1F600}')).toBeLessThan(0)
    expect(compareStrings('ab', 'abc')).toBeLessThan(0)
    expect(compareStrings('b', 'abc')).toBeGreaterThan(0)
  })
})

describe('parseQuery', () => {
  it('fills in the default limit and keeps paths as segments', () => {
    const spec = parseQuery('todos', { where: [['a.b', '==', 1]], orderBy: [['c', 'desc']] }, limits)
    expect(spec.limit).toBe(1000)
    expect(spec.where[0]).toMatchObject({ path: 'a.b', segments: ['a', 'b'], op: '==', value: 1 })
    expect(spec.orderBy[0]).toMatchObject({ segments: ['c'], desc: true })
  })

  it.each([
    [{ where: [['title', 'like', 'x']] }, 'where[0]: operator "like"'],
    [
      {
        where: [
          ['a', '==', 1],
          ['__proto__.x', '==', 1],
        ],
      },
      'where[1]: "__proto__.x" is not a record path',
    ],
    [{ where: [['a.constructor', '==', 1]] }, 'where[0]'],
    [{ where: [['a', '==', { x: 1 }]] }, 'where[0]: == compares with a string, number, boolean or null, not an object'],
    [{ where: [['a', '<', true]] }, 'where[0]: < compares with a number or a string'],
    [{ where: [['a', 'in', []]] }, 'where[0]: in takes a list'],
    [{ where: [['a', 'exists', 1]] }, 'where[0]: exists takes true or false'],
    [{ where: [['a', '==']] }, 'where[0]: a condition is [path, op, value]'],
    [{ orderBy: [['a', 'up']] }, "orderBy[0]: direction must be 'asc' or 'desc'"],
    [{ orderBy: [['', 'asc']] }, 'orderBy[0]'],
    [{ limit: 0 }, 'limit must be an integer from 1 to 1000'],
    [{ limit: 1001 }, 'limit must be an integer from 1 to 1000'],
    [{ limit: 2.5 }, 'limit'],
    [{ where: Array.from({ length: 17 }, () => ['a', '==', 1]) }, 'at most 16'],
    [{ filter: 1 }, 'unknown query option "filter"'],
    [{ where: [['a.0.1.2.3', '==', 1]] }, 'at most 3 numeric segments'],
  ])('refuses %j naming the bad part', (options, message) => {
    const e = invalid('todos', options)
    expect(e.code).toBe('INVALID_DATA')
    expect(e.message).toContain(message)
  })

  it('refuses a bad collection name with INVALID_NAME', () => {
    expect(invalid('todos/', {}).code).toBe('INVALID_NAME')
    expect(invalid('$records', {}).code).toBe('INVALID_NAME')
  })

  it('gives queries that differ only in condition order one canonical key', () => {
    const a = parseQuery(
      't',
      {
        where: [
          ['a', '==', 1],
          ['b', '>', 2],
        ],
      },
      limits,
    )
    const b = parseQuery(
      't',
      {
        where: [
          ['b', '>', 2],
          ['a', '==', 1],
        ],
      },
      limits,
    )
    const c = parseQuery(
      't',
      {
        where: [
          ['b', '>', 2],
          ['a', '==', '1'],
        ],
      },
      limits,
    )
    expect(canonicalQueryKey(a)).toBe(canonicalQueryKey(b))
    expect(canonicalQueryKey(a)).not.toBe(canonicalQueryKey(c))
  })
})

describe('compileWhere', () => {
  const docs = {
    num: { v: 1 },
    float: { v: 1.0 },
    str: { v: '1' },
    yes: { v: true },
    nul: { v: null },
    none: {},
    arr: { v: [1, 'a', null] },
  }
  const matching = (where: unknown[]) => {
    const test = compileWhere(parseQuery('c', { where }, limits).where)
    return Object.entries(docs)
      .filter(([, d]) => test(d))
      .map(([k]) => k)
  }

  it('== and != are type-strict; != and not-in never match a missing path', () => {
    expect(matching([['v', '==', 1]])).toEqual(['num', 'float'])
    expect(matching([['v', '==', null]])).toEqual(['nul'])
    expect(matching([['v', '!=', 1]])).toEqual(['str', 'yes', 'nul', 'arr'])
    expect(matching([['v', 'not-in', [1, null]]])).toEqual(['str', 'yes', 'arr'])
    expect(matching([['v', 'in', ['1', true]]])).toEqual(['str', 'yes'])
  })

  it('ranges compare within the operand type only', () => {
    expect(matching([['v', '>=', 0]])).toEqual(['num', 'float'])
    expect(matching([['v', '<', 'z']])).toEqual(['str'])
  })

  it('array-contains and exists', () => {
    expect(matching([['v', 'array-contains', null]])).toEqual(['arr'])
    expect(matching([['v', 'array-contains', 1]])).toEqual(['arr'])
    expect(matching([['v', 'exists', true]])).toEqual(['num', 'float', 'str', 'yes', 'nul', 'arr'])
    expect(matching([['v', 'exists', false]])).toEqual(['none'])
  })
})

describe('rowComparator', () => {
  it('breaks ties by name in the direction of the last key', () => {
    const rows = [
      { name: 'c/a', version: 1, data: { p: 1 } },
      { name: 'c/c', version: 1, data: { p: 1 } },
      { name: 'c/b', version: 1, data: { p: 2 } },
    ]
    const desc = parseQuery('c', { orderBy: [['p', 'desc']] }, limits)
    expect([...rows].sort(rowComparator(desc.orderBy)).map((r) => r.name)).toEqual(['c/b', 'c/c', 'c/a'])
    const asc = parseQuery('c', { orderBy: [['p', 'asc']] }, limits)
    expect([...rows].sort(rowComparator(asc.orderBy)).map((r) => r.name)).toEqual(['c/a', 'c/c', 'c/b'])
    expect([...rows].sort(rowComparator([])).map((r) => r.name)).toEqual(['c/a', 'c/b', 'c/c'])
  })

  it('orders by each key in its direction, ties by name', () => {
    const spec = parseQuery(
      'c',
      {
        orderBy: [
          ['p', 'desc'],
          ['s', 'asc'],
        ],
      },
      limits,
    )
    const rows = [
      { name: 'c/b', version: 1, data: { p: 1, s: 'x' } },
      { name: 'c/a', version: 1, data: { p: 1, s: 'x' } },
      { name: 'c/c', version: 1, data: { p: 2 } },
      { name: 'c/d', version: 1, data: { p: 1, s: 'a' } },
      { name: 'c/e', version: 1, data: {} },
    ]
    expect(rows.sort(rowComparator(spec.orderBy)).map((r) => r.name)).toEqual(['c/c', 'c/d', 'c/a', 'c/b', 'c/e'])
  })
})
