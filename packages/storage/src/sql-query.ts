import { createHash } from 'node:crypto'
import {
  namesDescend,
  RANK_NUMBER,
  RANK_STRING,
  typeRank,
  type Condition,
  type QueryScalar,
  type SortKey,
} from '@switchboard/protocol'
import type { StoreQuery } from './query-store.js'

/**
 * How one SQL backend reads JSON. Every value at a path is seen through three expressions that
 * together order exactly as `compareValues` does:
 *   rank — the type rank: 0 missing, 1 null, 2 false, 3 true, 4 number, 5 string, 6 array/object
 *   num  — the value if it is a number, else 0
 *   str  — the value if it is a string (compared by code point), else ''
 * Conditions and orderings are written only in these terms, so a declared index on
 * (rank, num, str) of each path serves both, and no backend-specific comparison rule leaks in
 * (SQLite's json_extract turns `true` into 1; PostgreSQL's jsonb orders types its own way).
 */
export interface SqlDialect {
  rank(segments: readonly string[]): string
  num(segments: readonly string[]): string
  str(segments: readonly string[]): string
  /** True when the value is an array with an element equal (type-strict) to `value`. */
  arrayContains(segments: readonly string[], value: QueryScalar, params: SqlParams): string
  /** True exactly for records of this collection (partial indexes use the same expression). */
  inCollection(collection: string): string
  /** The name column as compared and sorted (by code point). */
  readonly name: string
}

/** Bound parameters of one statement; `placeholder` renders the n-th one (1-based). */
export class SqlParams {
  readonly values: unknown[] = []
  constructor(private readonly placeholder: (position: number, value: unknown) => string) {}

  add(value: number | string): string {
    this.values.push(value)
    return this.placeholder(this.values.length, value)
  }
}

/** The WHERE and ORDER BY of a store query (tombstones are the caller's to exclude). */
export function sqlQuery(q: StoreQuery, d: SqlDialect, params: SqlParams): { where: string; orderBy: string } {
  const parts = [d.inCollection(q.collection), ...q.where.map((c) => condition(d, c, params))]
  if (q.after) parts.push(after(d, q, params))
  const order = q.orderBy.flatMap((k) => {
    const dir = k.desc ? ' DESC' : ''
    return [d.rank(k.segments) + dir, d.num(k.segments) + dir, d.str(k.segments) + dir]
  })
  order.push(namesDescend(q.orderBy) ? `${d.name} DESC` : d.name)
  return { where: parts.join(' AND '), orderBy: order.join(', ') }
}

/** A stable short id for a declared query index (its name in SQL): the same on every node and start. */
export function queryIndexId(table: string, collection: string, paths: readonly (readonly string[])[]): string {
  return createHash('sha1')
    .update(JSON.stringify([table, collection, paths]))
    .digest('hex')
    .slice(0, 16)
}

/** The expressions of an index serving queries that filter and sort on these paths, in order. */
export function indexColumns(d: SqlDialect, paths: readonly (readonly string[])[]): string[] {
  return [...paths.flatMap((p) => [d.rank(p), d.num(p), d.str(p)]), d.name]
}

function condition(d: SqlDialect, c: Condition, params: SqlParams): string {
  const at = c.segments
  switch (c.op) {
    case '==':
      return equals(d, at, c.value, params)
    case '!=':
      return `(${d.rank(at)} <> 0 AND NOT ${equals(d, at, c.value, params)})`
    case 'in':
      return `(${c.value.map((v) => equals(d, at, v, params)).join(' OR ')})`
    case 'not-in':
      return `(${d.rank(at)} <> 0 AND NOT (${c.value.map((v) => equals(d, at, v, params)).join(' OR ')}))`
    case '<':
    case '<=':
    case '>':
    case '>=':
      return typeof c.value === 'number'
        ? `(${d.rank(at)} = ${RANK_NUMBER} AND ${d.num(at)} ${c.op} ${params.add(c.value)})`
        : `(${d.rank(at)} = ${RANK_STRING} AND ${d.num(at)} = 0 AND ${d.str(at)} ${c.op} ${params.add(c.value)})`
    case 'array-contains':
      return d.arrayContains(at, c.value, params)
    case 'exists':
      return `${d.rank(at)} ${c.value ? '<>' : '='} 0`
  }
}

/** Type-strict equality, written so that all three index columns are pinned. */
function equals(d: SqlDialect, at: readonly string[], v: QueryScalar, params: SqlParams): string {
  const r = d.rank(at)
  const n = d.num(at)
  const s = d.str(at)
  if (typeof v === 'number') return `(${r} = ${RANK_NUMBER} AND ${n} = ${params.add(v)} AND ${s} = '')`
  if (typeof v === 'string') return `(${r} = ${RANK_STRING} AND ${n} = 0 AND ${s} = ${params.add(v)})`
  return `(${r} = ${typeRank(v)} AND ${n} = 0 AND ${s} = '')`
}

/**
 * Rows strictly after the cursor in query order: key by key, then by name. Built in text order,
 * so positional placeholders (SQLite's `?`) take their values in the order they were added.
 */
function after(d: SqlDialect, q: StoreQuery, params: SqlParams): string {
  const cursor = q.after as NonNullable<StoreQuery['after']>
  const from = (i: number): string => {
    if (i === q.orderBy.length) return `${d.name} ${namesDescend(q.orderBy) ? '<' : '>'} ${params.add(cursor.name)}`
    const key = q.orderBy[i] as SortKey
    const value = cursor.values[i]
    const past = beyond(d, key, value, params)
    const tie = same(d, key.segments, value, params)
    return `(${past} OR (${tie} AND ${from(i + 1)}))`
  }
  return from(0)
}

function beyond(d: SqlDialect, key: SortKey, value: unknown, params: SqlParams): string {
  const cmp = key.desc ? '<' : '>'
  const r = d.rank(key.segments)
  const rank = typeRank(value)
  if (rank === RANK_NUMBER)
    return `(${r} ${cmp} ${rank} OR (${r} = ${rank} AND ${d.num(key.segments)} ${cmp} ${params.add(value as number)}))`
  if (rank === RANK_STRING)
    return `(${r} ${cmp} ${rank} OR (${r} = ${rank} AND ${d.str(key.segments)} ${cmp} ${params.add(value as string)}))`
  return `${r} ${cmp} ${rank}`
}

function same(d: SqlDialect, at: readonly string[], value: unknown, params: SqlParams): string {
  const rank = typeRank(value)
  if (rank === RANK_NUMBER) return `(${d.rank(at)} = ${rank} AND ${d.num(at)} = ${params.add(value as number)})`
  if (rank === RANK_STRING) return `(${d.rank(at)} = ${rank} AND ${d.str(at)} = ${params.add(value as string)})`
  return `${d.rank(at)} = ${rank}`
}

/** A SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`
}
