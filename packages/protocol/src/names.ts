/**
 * Names (channels, records, collections, RPC) and patterns, SPEC §1:
 * `/`-separated segments of [A-Za-z0-9_.:@-], 1–255 characters. In patterns a segment may be
 * `*` (exactly one segment) or `**` (one or more segments).
 */

export const MAX_NAME_LENGTH = 255
const SEGMENT = /^[A-Za-z0-9_.:@-]+$/
/** The whole name in one test (no split, no allocation): it runs on every publish and call. */
const NAME = /^[A-Za-z0-9_.:@-]+(?:\/[A-Za-z0-9_.:@-]+)*$/

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME.test(name)
}

export function isPattern(name: string): boolean {
  return name.includes('*')
}

export function isValidPattern(pattern: unknown): pattern is string {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_NAME_LENGTH) return false
  for (const segment of pattern.split('/')) {
    if (segment !== '*' && segment !== '**' && !SEGMENT.test(segment)) return false
  }
  return true
}

/** A compiled pattern: `matches` is allocation-free apart from one split of the name. */
export interface NamePattern {
  readonly source: string
  /** Number of `*` and `**` segments; more literal segments = more specific. */
  readonly wildcards: number
  matches(name: string): boolean
  /** The values matched by each wildcard, in order (`**` captures 'a/b'), or null. */
  capture(name: string): string[] | null
}

export function compilePattern(pattern: string): NamePattern {
  if (!isValidPattern(pattern)) throw new TypeError(`invalid pattern: ${pattern}`)
  const segments = pattern.split('/')
  const wildcards = segments.filter((s) => s === '*' || s === '**').length
  if (wildcards === 0) {
    return { source: pattern, wildcards, matches: (n) => n === pattern, capture: (n) => (n === pattern ? [] : null) }
  }
  const capture = (name: string): string[] | null => {
    const parts = name.split('/')
    const captures: string[] = []
    return match(segments, 0, parts, 0, captures) ? captures : null
  }
  return { source: pattern, wildcards, matches: (n) => capture(n) !== null, capture }
}

function match(pat: string[], pi: number, parts: string[], ni: number, out: string[]): boolean {
  if (pi === pat.length) return ni === parts.length
  const seg = pat[pi]
  if (seg === '**') {
    // One or more segments; prefer the shortest so later literals can match.
    for (let end = ni + 1; end <= parts.length; end++) {
      const mark = out.length
      out.push(parts.slice(ni, end).join('/'))
      if (match(pat, pi + 1, parts, end, out)) return true
      out.length = mark
    }
    return false
  }
  if (ni >= parts.length) return false
  if (seg === '*') {
    out.push(parts[ni] as string)
    if (match(pat, pi + 1, parts, ni + 1, out)) return true
    out.pop()
    return false
  }
  return seg === parts[ni] && match(pat, pi + 1, parts, ni + 1, out)
}

/**
 * Picks the most specific of several matching patterns: fewer wildcards first, then fewer
 * `**`, then more segments, then the longer source. Ties keep the earlier one.
 */
export function compareSpecificity(a: string, b: string): number {
  const score = (p: string) => {
    const segs = p.split('/')
    return [
      segs.filter((s) => s === '*' || s === '**').length,
      segs.filter((s) => s === '**').length,
      -segs.length,
      -p.length,
    ]
  }
  const sa = score(a)
  const sb = score(b)
  for (let i = 0; i < sa.length; i++) {
    const d = (sa[i] as number) - (sb[i] as number)
    if (d !== 0) return d
  }
  return 0
}

/** A record's collection: its name up to the last `/` (`todos/42` → `todos`). */
export function collectionOf(name: string): string {
  const i = name.lastIndexOf('/')
  return i < 0 ? '' : name.slice(0, i)
}

export const FORBIDDEN_PATH_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor'])

/** Parses a dotted record path (`items.0.title`); returns null for an invalid one. */
export function parsePath(path: string): string[] | null {
  if (typeof path !== 'string' || path.length === 0 || path.length > 1024) return null
  const segments = path.split('.')
  for (const s of segments) if (s.length === 0 || FORBIDDEN_PATH_SEGMENTS.has(s)) return null
  return segments
}
