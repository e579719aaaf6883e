import { SwitchboardError } from '../errors.js'
import { isValidName, parsePath } from '../names.js'
import { isIndexSegment } from './values.js'

/** `where` operators (SPEC §2). */
export const QUERY_OPERATORS = ['==', '!=', '<', '<=', '>', '>=', 'in', 'not-in', 'array-contains', 'exists'] as const
export type QueryOperator = (typeof QUERY_OPERATORS)[number]

/** The values a condition compares with: JSON scalars. */
export type QueryScalar = string | number | boolean | null

/** As apps write them: `[path, op, value]`, ANDed. */
export type WhereClause = readonly [path: string, op: QueryOperator, value: unknown]
export type OrderKey = readonly [path: string, direction: 'asc' | 'desc']

export interface QueryOptions {
  where?: readonly WhereClause[]
  orderBy?: readonly OrderKey[]
  /** 1..limits.maxQueryResults; default limits.maxQueryResults. */
  limit?: number
}

interface PathPart {
  /** The dotted path as written. */
  readonly path: string
  readonly segments: readonly string[]
}

/** One validated condition. */
export type Condition = PathPart &
  (
    | { readonly op: '==' | '!=' | 'array-contains'; readonly value: QueryScalar }
    | { readonly op: '<' | '<=' | '>' | '>='; readonly value: number | string }
    | { readonly op: 'in' | 'not-in'; readonly value: readonly QueryScalar[] }
    | { readonly op: 'exists'; readonly value: boolean }
  )

export type SortKey = PathPart & { readonly desc: boolean }

/** A validated query: what stores run and live queries maintain. */
export interface QuerySpec {
  readonly collection: string
  readonly where: readonly Condition[]
  /** Ties are ordered by record name in the last key's direction (ascending without keys). */
  readonly orderBy: readonly SortKey[]
  readonly limit: number
}

export interface QueryLimits {
  /** limits.maxQueryResults: the largest (and the default) limit. */
  maxResults: number
  /** limits.maxQueryClauses: where conditions plus orderBy keys. */
  maxClauses: number
}

/** Values in one `in`/`not-in` list. */
export const MAX_IN_VALUES = 100
/** Index segments in one query path (each one doubles the SQL a store generates for it). */
export const MAX_INDEX_SEGMENTS = 3

/**
 * Validates a query as it came from an app or the wire. Throws SwitchboardError: INVALID_NAME
 * for the collection, INVALID_DATA naming the bad part (`where[1]: …`) for everything else.
 */
export function parseQuery(collection: unknown, options: unknown, limits: QueryLimits): QuerySpec {
  if (!isValidName(collection))
    throw new SwitchboardError('INVALID_NAME', `invalid collection name: ${String(collection).slice(0, 300)}`)
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || Array.isArray(options)) bad('the query options must be an object')
  const { where = [], orderBy = [], limit = limits.maxResults, ...rest } = options as Record<string, unknown>
  const extra = Object.keys(rest)[0]
  if (extra !== undefined) bad(`unknown query option "${extra.slice(0, 50)}" (where, orderBy, limit)`)
  if (!Array.isArray(where)) bad('where must be an array of [path, op, value] conditions')
  if (!Array.isArray(orderBy)) bad("orderBy must be an array of [path, 'asc' | 'desc'] keys")
  if (where.length + orderBy.length > limits.maxClauses) {
    bad(`at most ${limits.maxClauses} where conditions and orderBy keys together (limits.maxQueryClauses)`)
  }
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > limits.maxResults) {
    bad(`limit must be an integer from 1 to ${limits.maxResults} (limits.maxQueryResults)`)
  }
  return {
    collection,
    where: where.map((c: unknown, i) => condition(c, `where[${i}]`)),
    orderBy: orderBy.map((k: unknown, i) => sortKey(k, `orderBy[${i}]`)),
    limit: limit as number,
  }
}

function condition(clause: unknown, at: string): Condition {
  if (!Array.isArray(clause) || clause.length !== 3) bad(`${at}: a condition is [path, op, value]`)
  const [rawPath, op, value] = clause as [unknown, unknown, unknown]
  const p = pathPart(rawPath, at)
  switch (op) {
    case '==':
    case '!=':
    case 'array-contains':
      return { ...p, op, value: scalar(value, `${at}: ${op}`) }
    case '<':
    case '<=':
    case '>':
    case '>=':
      if (!(typeof value === 'string' || isFiniteNumber(value))) bad(`${at}: ${op} compares with a number or a string`)
      return { ...p, op, value }
    case 'in':
    case 'not-in': {
      if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IN_VALUES)
        bad(`${at}: ${op} takes a list of 1 to ${MAX_IN_VALUES} values`)
      return { ...p, op, value: value.map((v: unknown) => scalar(v, `${at}: ${op}`)) }
    }
    case 'exists':
      if (typeof value !== 'boolean') bad(`${at}: exists takes true or false`)
      return { ...p, op, value }
    default:
      return bad(`${at}: operator ${describe(op)} is not one of ${QUERY_OPERATORS.join(' ')}`)
  }
}

function sortKey(key: unknown, at: string): SortKey {
  if (!Array.isArray(key) || key.length !== 2) bad(`${at}: an orderBy key is [path, 'asc' | 'desc']`)
  const [rawPath, direction] = key as [unknown, unknown]
  if (direction !== 'asc' && direction !== 'desc') bad(`${at}: direction must be 'asc' or 'desc'`)
  return { ...pathPart(rawPath, at), desc: direction === 'desc' }
}

function pathPart(path: unknown, at: string): PathPart {
  const segments = typeof path === 'string' ? parsePath(path) : null
  if (!segments) {
    bad(
      `${at}: ${describe(path)} is not a record path (dotted, non-empty segments; no __proto__, prototype or constructor)`,
    )
  }
  if (segments.filter(isIndexSegment).length > MAX_INDEX_SEGMENTS)
    bad(`${at}: a query path may have at most ${MAX_INDEX_SEGMENTS} numeric segments`)
  return { path: path as string, segments }
}

function scalar(value: unknown, at: string): QueryScalar {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || isFiniteNumber(value))
    return value as QueryScalar
  return bad(`${at} compares with a string, number, boolean or null, not ${describe(value)}`)
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 50))
  if (Array.isArray(value)) return 'a list'
  if (value === null) return 'null'
  return typeof value === 'object' ? 'an object' : String(value)
}

function bad(message: string): never {
  throw new SwitchboardError('INVALID_DATA', message)
}

/**
 * A string that is equal for queries that mean the same (condition order does not matter):
 * live queries with the same key share one evaluation on the server.
 */
export function canonicalQueryKey(spec: QuerySpec): string {
  const where = spec.where.map((c) => JSON.stringify([c.path, c.op, c.value])).sort()
  const order = spec.orderBy.map((k) => [k.path, k.desc ? 'desc' : 'asc'])
  return JSON.stringify([spec.collection, where, order, spec.limit])
}
