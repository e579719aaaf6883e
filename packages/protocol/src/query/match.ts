import type { Condition, QueryScalar, SortKey } from './spec.js'
import { compareStrings, compareValues, valueAt } from './values.js'

/** A record as queries see it. */
export interface QueryRow {
  name: string
  version: number
  data: unknown
}

/**
 * Conditions compiled once into one predicate over a document (closures, no eval):
 * - `==` the value has the operand's type and equals it (1 == 1.0; `== null` needs an explicit null);
 * - `!=`, `not-in` the path exists and the value differs (a missing path never matches);
 * - `< <= > >=` the value has the operand's type (number or string) and compares so;
 * - `in` equals one of the list; `array-contains` an array with an element equal to the operand;
 * - `exists: true` the path is present (null counts), `exists: false` it is missing.
 */
export function compileWhere(conditions: readonly Condition[]): (doc: unknown) => boolean {
  const tests = conditions.map(compileCondition)
  if (tests.length === 0) return () => true
  if (tests.length === 1) return tests[0] as (doc: unknown) => boolean
  return (doc) => {
    for (let i = 0; i < tests.length; i++) if (!(tests[i] as (doc: unknown) => boolean)(doc)) return false
    return true
  }
}

function compileCondition(c: Condition): (doc: unknown) => boolean {
  const at = c.segments
  switch (c.op) {
    case '==': {
      const x = c.value
      return (doc) => valueAt(doc, at) === x
    }
    case '!=': {
      const x = c.value
      return (doc) => {
        const v = valueAt(doc, at)
        return v !== undefined && v !== x
      }
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const x = c.value
      const type = typeof x
      const accept = RANGE[c.op]
      return (doc) => {
        const v = valueAt(doc, at)
        if (typeof v !== type) return false
        return accept(type === 'string' ? compareStrings(v as string, x as string) : (v as number) - (x as number))
      }
    }
    case 'in':
    case 'not-in': {
      const set = new Set<QueryScalar>(c.value)
      const wanted = c.op === 'in'
      return (doc) => {
        const v = valueAt(doc, at)
        return v !== undefined && set.has(v as QueryScalar) === wanted
      }
    }
    case 'array-contains': {
      const x = c.value
      return (doc) => {
        const v = valueAt(doc, at)
        return Array.isArray(v) && v.includes(x)
      }
    }
    case 'exists': {
      const present = c.value
      return (doc) => (valueAt(doc, at) !== undefined) === present
    }
  }
}

const RANGE: Record<'<' | '<=' | '>' | '>=', (d: number) => boolean> = {
  '<': (d) => d < 0,
  '<=': (d) => d <= 0,
  '>': (d) => d > 0,
  '>=': (d) => d >= 0,
}

/** The values a row sorts by, extracted once per row version. */
export type SortValues = readonly unknown[]

export function sortValuesOf(orderBy: readonly SortKey[], doc: unknown): SortValues {
  return orderBy.map((k) => valueAt(doc, k.segments))
}

/**
 * Orders rows by their sort values (each key ascending or descending), ties by record name in
 * the direction of the last key (ascending without keys): a total order, the same on client,
 * server and every store. A query and its reverse are then exact mirror images, so one index
 * serves both.
 */
export function compareSorted(
  orderBy: readonly SortKey[],
  a: SortValues,
  aName: string,
  b: SortValues,
  bName: string,
): number {
  for (let i = 0; i < orderBy.length; i++) {
    const d = compareValues(a[i], b[i])
    if (d !== 0) return (orderBy[i] as SortKey).desc ? -d : d
  }
  const d = compareStrings(aName, bName)
  return namesDescend(orderBy) ? -d : d
}

/** Whether ties by name go descending: when the last key does. */
export function namesDescend(orderBy: readonly SortKey[]): boolean {
  return orderBy.length > 0 && (orderBy[orderBy.length - 1] as SortKey).desc
}

/** A comparator over whole rows, for sorting small lists (extracts values on every call). */
export function rowComparator(orderBy: readonly SortKey[]): (a: QueryRow, b: QueryRow) => number {
  return (a, b) => compareSorted(orderBy, sortValuesOf(orderBy, a.data), a.name, sortValuesOf(orderBy, b.data), b.name)
}
