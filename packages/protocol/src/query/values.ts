/**
 * How live queries see values (docs/queries.md, "Comparison"): one definition shared by the
 * client (ordering rows), the server (matching changes) and every record store (the SQL
 * stores generate the same semantics; the storage conformance suite checks they agree).
 *
 * A value at a path is missing (`undefined`), or a JSON value. Ordering ranks types first:
 *   missing < null < false < true < numbers < strings < arrays and objects
 * Numbers compare numerically, strings by Unicode code point (UTF-8 byte order, as SQLite's
 * BINARY and PostgreSQL's "C" collation do); arrays and objects all rank alike (ties go on to
 * the next key, then the record name).
 */

export const RANK_MISSING = 0
export const RANK_NULL = 1
export const RANK_FALSE = 2
export const RANK_TRUE = 3
export const RANK_NUMBER = 4
export const RANK_STRING = 5
export const RANK_COMPOSITE = 6

/** A numeric path segment indexes an array (and is an ordinary key on an object). */
const INDEX = /^(?:0|[1-9][0-9]{0,8})$/

export function isIndexSegment(segment: string): boolean {
  return INDEX.test(segment)
}

/**
 * The value at a dotted path's segments, or undefined when missing. Only own keys count
 * (`toString` is never found); on an array only index segments resolve.
 */
export function valueAt(doc: unknown, segments: readonly string[]): unknown {
  let v = doc
  for (let i = 0; i < segments.length; i++) {
    if (typeof v !== 'object' || v === null) return undefined
    const s = segments[i] as string
    if (Array.isArray(v)) {
      if (!INDEX.test(s)) return undefined
      v = v[Number(s)]
    } else {
      if (!Object.hasOwn(v, s)) return undefined
      v = (v as Record<string, unknown>)[s]
    }
  }
  return v
}

export function typeRank(v: unknown): number {
  switch (typeof v) {
    case 'undefined':
      return RANK_MISSING
    case 'boolean':
      return v ? RANK_TRUE : RANK_FALSE
    case 'number':
      return RANK_NUMBER
    case 'string':
      return RANK_STRING
    default:
      return v === null ? RANK_NULL : RANK_COMPOSITE
  }
}

/** Orders two values by the rules above: negative, 0 or positive. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a)
  const rb = typeRank(b)
  if (ra !== rb) return ra - rb
  if (ra === RANK_NUMBER) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  if (ra === RANK_STRING) return compareStrings(a as string, b as string)
  return 0
}

/**
 * Code point order. JavaScript's `<` compares UTF-16 code units, which puts characters above
 * U+FFFF (surrogate pairs) before U+E000–U+FFFF; shifting the two ranges fixes that.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i)
    let cb = b.charCodeAt(i)
    if (ca === cb) continue
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000
    }
    return ca - cb
  }
  return a.length - b.length
}
